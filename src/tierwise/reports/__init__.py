"""Reports: tier summaries and rule-set analysis for people to read."""
