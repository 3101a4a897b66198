-- The reference: the query a user would write by hand in DuckDB for the same result as the
-- tierwise project in benchmarks/project/tierwise.yaml. One grouped scan of the transactions with
-- FILTER aggregates, a left join to the customers, RFM quintiles with ntile() (one sort of all
-- customers per dimension), the value rules as a CASE and the standard 11-segment RFM map.
-- benchmarks/run.py fills in {transactions}, {customers}, {as_of} and {output}.
--
-- The 12- and 6-month windows are (as_of - 12 months, as_of], as tierwise resolves them; the
-- bounds are cast back to DATE so the filter compares dates, not timestamps.
COPY (
    WITH per_customer AS (
        SELECT
            customer_id,
            max(order_date) FILTER (WHERE kind = 'sale') AS last_order,
            count(*) FILTER (
                WHERE kind = 'sale' AND order_date > (DATE '{as_of}' - INTERVAL 12 MONTH)::DATE
            ) AS orders_12m,
            count(*) FILTER (
                WHERE kind = 'sale' AND order_date > (DATE '{as_of}' - INTERVAL 6 MONTH)::DATE
            ) AS orders_6m,
            sum(amount) FILTER (
                WHERE order_date > (DATE '{as_of}' - INTERVAL 12 MONTH)::DATE
            ) AS spend_12m
        FROM read_parquet('{transactions}')
        WHERE order_date <= DATE '{as_of}'
        GROUP BY customer_id
    ),
    features AS (
        SELECT
            c.customer_id,
            DATE '{as_of}' - p.last_order AS days_since_last_order,
            coalesce(p.orders_12m, 0) AS orders_12m,
            coalesce(p.orders_6m, 0) AS orders_6m,
            coalesce(p.spend_12m, 0) AS spend_12m
        FROM read_parquet('{customers}') AS c
        LEFT JOIN per_customer AS p ON p.customer_id = c.customer_id
    ),
    scored AS (
        SELECT
            *,
            -- never bought (null) counts as the worst recency
            ntile(5) OVER (ORDER BY days_since_last_order DESC NULLS FIRST) AS r_score,
            ntile(5) OVER (ORDER BY orders_12m) AS f_score,
            ntile(5) OVER (ORDER BY spend_12m) AS m_score
        FROM features
    ),
    rfm AS (
        SELECT *, (f_score + m_score + 1) // 2 AS fm FROM scored
    )
    SELECT
        customer_id,
        days_since_last_order,
        orders_12m,
        orders_6m,
        spend_12m,
        CASE
            WHEN orders_12m >= 10 AND spend_12m >= 10000 THEN 'high'
            WHEN (orders_12m BETWEEN 5 AND 9 AND spend_12m BETWEEN 5000 AND 9999)
                OR (orders_12m >= 10 AND spend_12m < 10000) THEN 'medium'
            WHEN orders_12m BETWEEN 1 AND 4 AND spend_12m < 5000 THEN 'low'
            WHEN orders_6m = 0 THEN 'churn_risk'
            ELSE 'unclassified'
        END AS value_tier,
        r_score,
        f_score,
        m_score,
        CASE
            WHEN r_score = 5 AND fm >= 4 THEN 'champions'
            WHEN r_score IN (3, 4) AND fm >= 4 THEN 'loyal_customers'
            WHEN r_score >= 4 AND fm IN (2, 3) THEN 'potential_loyalists'
            WHEN r_score = 5 AND fm = 1 THEN 'new_customers'
            WHEN r_score = 4 AND fm = 1 THEN 'promising'
            WHEN r_score = 3 AND fm = 3 THEN 'need_attention'
            WHEN r_score = 3 AND fm <= 2 THEN 'about_to_sleep'
            WHEN r_score <= 2 AND fm = 5 THEN 'cant_lose_them'
            WHEN r_score <= 2 AND fm IN (3, 4) THEN 'at_risk'
            WHEN r_score = 2 AND fm <= 2 THEN 'hibernating'
            ELSE 'lost'
        END AS rfm_segment
    FROM rfm
) TO '{output}' (FORMAT parquet);
