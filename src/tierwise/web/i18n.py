"""The dashboard's words in English and Simplified Chinese, and number formats per language.

Every string a page shows comes from here; both languages have exactly the same keys
(tests/web/test_pages.py checks it). Messages of refused actions come from the services and
stay in English; pages show them after a translated lead-in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

LANGS = ("en", "zh")
DEFAULT = "en"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "tierwise",
        "lang_other": "中文",
        "overview": "Overview",
        "customers": "Customers",
        "approvals": "Approvals",
        "audit": "Audit log",
        "login": "Log in",
        "logout": "Log out",
        "username": "User name",
        "password": "Password",
        "login_failed": "Login failed: wrong user name or password, or too many attempts.",
        "login_wait": "Too many login attempts. Try again in {seconds} seconds.",
        "logged_in_as": "Logged in as",
        "scheme": "Scheme",
        "show": "Show",
        "tier": "Tier",
        "label": "Label",
        "share": "Share",
        "value_sum": "Value",
        "value_share": "Value share",
        "total": "Total",
        "latest_run": "Latest official run",
        "as_of": "As of",
        "version": "Version",
        "tier_mix": "Tier mix",
        "own_mix": "Your customers",
        "fitted_model": "Fitted model (from this run's data)",
        "own_none": "No customer assigned to you has a grade in this run.",
        "book_note": "The sections below count every customer of the book; customer details stay limited to your own.",
        "trend": "Customers per tier across runs",
        "transitions": "Moves since the previous run",
        "from_to": "From \\ to",
        "not_graded": "not graded",
        "no_runs": "This scheme has no official run yet.",
        "no_previous": "This is the scheme's first run; there is nothing to compare with.",
        "no_schemes": "The store has no schemes yet.",
        "search": "Search",
        "id_prefix": "Customer id starts with",
        "where": "Condition on indicators",
        "all_tiers": "All tiers",
        "customer": "Customer",
        "matches": "matching customers",
        "previous": "Previous",
        "next": "Next",
        "reasons": "Reasons",
        "gap": "To reach the next tier",
        "indicators": "Indicators",
        "indicator": "Indicator",
        "value": "Value",
        "timeline": "Tier history",
        "valid_from": "From",
        "valid_to": "Until",
        "source": "Source",
        "overrides": "Overrides",
        "none": "None.",
        "new_override": "New override",
        "kind": "Kind",
        "kind_pin": "pin to a tier",
        "kind_floor": "at least a tier",
        "kind_ceiling": "at most a tier",
        "kind_exclude": "exclude from tiers",
        "reason": "Reason",
        "expires": "Expires (optional)",
        "save": "Save",
        "override_saved": "Override saved.",
        "revoke": "Revoke",
        "override_revoked": "Override revoked; the customer returns to the computed tier at the next run.",
        "override_pending": "Override saved; it waits for approval by a second person.",
        "status": "Status",
        "author": "Author",
        "created": "Created",
        "decided_by": "Decided by",
        "pending": "Pending overrides",
        "approve": "Approve",
        "reject": "Reject",
        "note": "Note",
        "decided": "Decision saved.",
        "refused": "Not done",
        "actions": "Actions",
        "audit_ok": "The audit log's hash chain is intact.",
        "audit_broken": "The audit log's hash chain is broken:",
        "access_log": "Access log",
        "access_log_note": "Who read which customers, searched, or failed to log in (latest 100). Kept apart from the hash chain and pruned after the retention period.",
        "client": "Client address",
        "events": "events",
        "at": "When",
        "actor": "Who",
        "action": "Action",
        "object": "Object",
        "forbidden": "You may not open this page.",
        "not_found": "Not found.",
        "error": "Something went wrong.",
        "bad_request": "The form was incomplete or invalid.",
        "csrf": "The form expired or did not come from this site; reload the page and retry.",
        "back": "Back",
        "schemes": "Schemes",
        "method": "Method",
        "active_version": "Active version",
        "read_only": "You may read this scheme; only supervisors and admins may edit it.",
        "not_editable": "Tiers of the method {method} cannot be edited here; its definition is shown read-only.",
        "tiers": "Tiers",
        "key": "Key",
        "label_en": "Label (English)",
        "label_zh": "Label (Chinese)",
        "when": "Condition",
        "min_score": "Lowest score",
        "top_share": "Top share of customers",
        "stability": "Stability policy",
        "upgrade_after": "Upgrade after (runs in a row)",
        "downgrade_after": "Downgrade after (runs in a row)",
        "min_days_in_tier": "Minimum days in a tier",
        "cooldown_days": "Days between two tier changes",
        "downgrade_margin": "Downgrade margin (share, 0.1 = 10%)",
        "move_up": "Move up",
        "move_down": "Move down",
        "remove_tier": "Remove tier",
        "add_tier": "Add a tier",
        "reshape_note": "Rules are tried top to bottom; adding, removing or moving a tier saves nothing.",
        "fallback": "Fallback tier (customers no rule matches)",
        "fallback_takes_rest": "The fallback tier: it takes every customer no rule above matches.",
        "dimensions": "Dimensions",
        "weight_of": "Weight of {indicator}",
        "go_live": "go live on",
        "scheduled": "Version {version} goes live on {day}.",
        "goes_live": "goes live {day}",
        "version_note": "Note for the new version",
        "check": "Check",
        "preview": "Preview",
        "save_version": "Save as new version",
        "check_ok": "No problems found.",
        "problems": "Problems:",
        "preview_title": "Impact on the active version's grades",
        "preview_counts": "{up} up, {down} down, {new} new, {gone} gone, {same} unchanged",
        "preview_note": "tiers computed on the same data, before stability policies and overrides; nothing was saved.",
        "conflict": "Someone saved version {version} meanwhile; reload the page and redo your edit.",
        "saved_version": "Version {version} saved; it is not active yet.",
        "same_version": "The edit changes no grade: it matches version {version} (its texts were updated).",
        "activate_version": "Activate version {version}",
        "activated": "Version {version} is now active.",
        "versions": "Versions",
        "created_by": "By",
        "active_mark": "active",
        "diff_title": "Differences from the active version",
        "compare_with": "Compare with version",
        "field": "Field",
        "before": "Active version",
        "after": "Compared version",
        "changes_grading": "Changes grades",
        "yes": "yes",
        "no": "no",
        "no_differences": "No differences.",
    },
    "zh": {
        "app": "tierwise",
        "lang_other": "English",
        "overview": "概览",
        "customers": "客户",
        "approvals": "审批",
        "audit": "审计日志",
        "login": "登录",
        "logout": "退出",
        "username": "用户名",
        "password": "密码",
        "login_failed": "登录失败：用户名或密码错误，或尝试次数过多。",
        "login_wait": "登录尝试次数过多，请在 {seconds} 秒后重试。",
        "logged_in_as": "当前用户",
        "scheme": "方案",
        "show": "显示",
        "tier": "等级",
        "label": "名称",
        "share": "占比",
        "value_sum": "价值",
        "value_share": "价值占比",
        "total": "合计",
        "latest_run": "最近一次正式运行",
        "as_of": "截至日期",
        "version": "版本",
        "tier_mix": "等级分布",
        "own_mix": "我的客户",
        "fitted_model": "拟合的模型（基于本次运行的数据）",
        "own_none": "分配给您的客户在本次运行中没有等级。",
        "book_note": "以下各部分统计全部客户；客户明细仍仅限于您名下的客户。",
        "trend": "各次运行的等级客户数",
        "transitions": "与上次运行相比的变动",
        "from_to": "从 \\ 到",
        "not_graded": "未评级",
        "no_runs": "该方案尚无正式运行。",
        "no_previous": "这是该方案的第一次运行，没有可比较的上次运行。",
        "no_schemes": "存储中还没有方案。",
        "search": "搜索",
        "id_prefix": "客户编号开头",
        "where": "指标条件",
        "all_tiers": "全部等级",
        "customer": "客户",
        "matches": "位符合条件的客户",
        "previous": "上一页",
        "next": "下一页",
        "reasons": "原因",
        "gap": "升到上一等级还差",
        "indicators": "指标",
        "indicator": "指标",
        "value": "数值",
        "timeline": "等级历史",
        "valid_from": "起",
        "valid_to": "止",
        "source": "来源",
        "overrides": "人工调整",
        "none": "无。",
        "new_override": "新建人工调整",
        "kind": "类型",
        "kind_pin": "固定为某等级",
        "kind_floor": "不低于某等级",
        "kind_ceiling": "不高于某等级",
        "kind_exclude": "排除出等级",
        "reason": "理由",
        "expires": "到期日（可选）",
        "save": "保存",
        "override_saved": "人工调整已保存。",
        "revoke": "撤销",
        "override_revoked": "人工调整已撤销；下次运行时客户恢复为计算所得等级。",
        "override_pending": "人工调整已保存，等待另一人审批。",
        "status": "状态",
        "author": "提交人",
        "created": "创建时间",
        "decided_by": "审批人",
        "pending": "待审批的人工调整",
        "approve": "批准",
        "reject": "驳回",
        "note": "备注",
        "decided": "审批结果已保存。",
        "refused": "未执行",
        "actions": "操作",
        "audit_ok": "审计日志的哈希链完整。",
        "audit_broken": "审计日志的哈希链已损坏：",
        "access_log": "访问日志",
        "access_log_note": "谁查看了哪些客户、做了哪些查询、哪些登录失败（最近 100 条）。与哈希链分开保存，保留期满后清理。",
        "client": "客户端地址",
        "events": "条事件",
        "at": "时间",
        "actor": "操作人",
        "action": "动作",
        "object": "对象",
        "forbidden": "您无权打开此页面。",
        "not_found": "未找到。",
        "error": "出现错误。",
        "bad_request": "表单不完整或无效。",
        "csrf": "表单已过期或并非来自本站，请刷新页面后重试。",
        "back": "返回",
        "schemes": "方案",
        "method": "方法",
        "active_version": "生效版本",
        "read_only": "您可以查看此方案；只有主管和管理员可以编辑。",
        "not_editable": "方法 {method} 的等级不能在此编辑；其定义仅供查看。",
        "tiers": "等级",
        "key": "代码",
        "label_en": "名称（英文）",
        "label_zh": "名称（中文）",
        "when": "条件",
        "min_score": "最低得分",
        "top_share": "前列客户占比",
        "stability": "稳定性策略",
        "upgrade_after": "连续几次运行后升级",
        "downgrade_after": "连续几次运行后降级",
        "min_days_in_tier": "等级最少保持天数",
        "cooldown_days": "两次等级变动间隔天数",
        "downgrade_margin": "降级缓冲比例（0.1 = 10%）",
        "move_up": "上移",
        "move_down": "下移",
        "remove_tier": "删除等级",
        "add_tier": "添加等级",
        "reshape_note": "规则自上而下依次匹配；添加、删除或移动等级不会保存。",
        "fallback": "兜底等级（未匹配任何规则的客户）",
        "fallback_takes_rest": "兜底等级：未匹配以上任何规则的客户都归入此等级。",
        "dimensions": "评分维度",
        "weight_of": "{indicator} 的权重",
        "go_live": "生效日期",
        "scheduled": "版本 {version} 将于 {day} 生效。",
        "goes_live": "{day} 生效",
        "version_note": "新版本备注",
        "check": "检查",
        "preview": "预览",
        "save_version": "另存为新版本",
        "check_ok": "未发现问题。",
        "problems": "问题：",
        "preview_title": "对生效版本评级的影响",
        "preview_counts": "{up} 位升级，{down} 位降级，{new} 位新增，{gone} 位移出，{same} 位不变",
        "preview_note": "基于相同数据计算的等级，未应用稳定性策略和人工调整；未保存任何内容。",
        "conflict": "其他人已同时保存了版本 {version}；请刷新页面后重新编辑。",
        "saved_version": "已保存版本 {version}，尚未生效。",
        "same_version": "此修改不影响评级：与版本 {version} 相同（已更新其文字）。",
        "activate_version": "启用版本 {version}",
        "activated": "版本 {version} 已生效。",
        "versions": "版本历史",
        "created_by": "创建人",
        "active_mark": "生效中",
        "diff_title": "与生效版本的差异",
        "compare_with": "对比版本",
        "field": "字段",
        "before": "生效版本",
        "after": "对比版本",
        "changes_grading": "影响评级",
        "yes": "是",
        "no": "否",
        "no_differences": "没有差异。",
    },
}

# Both languages group digits by thousands with a comma and use a point for decimals (mainland
# Chinese financial tables do too). Where space is short (chart labels) Chinese counts in 万
# (10^4) and 亿 (10^8), English in K, M and B.
_COMPACT = {"en": ((1e9, "B"), (1e6, "M"), (1e3, "K")), "zh": ((1e8, "亿"), (1e4, "万"))}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def words(lang: str) -> dict[str, str]:
    """The strings of ``lang`` (English for an unknown language)."""
    return STRINGS.get(lang, STRINGS[DEFAULT])


def number(value: float | int | None, lang: str, *, digits: int = 0) -> str:
    """``value`` with thousands separators (the same in both languages); "" for None."""
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def compact(value: float | int | None, lang: str) -> str:
    """``value`` shortened for a chart label: 1.2M / 12.5K in English, 120万 / 1.2亿 in Chinese.

    Three significant digits at most; values below the smallest unit print whole (or with
    one decimal when they have a fraction).
    """
    if value is None:
        return ""
    for size, unit in _COMPACT.get(lang, _COMPACT[DEFAULT]):
        if abs(value) >= size:
            scaled = value / size
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            text = number(scaled, lang, digits=digits)
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return text + unit
    return number(value, lang, digits=0 if float(value).is_integer() else 1)


def percent(share: float | None, lang: str) -> str:
    """A share (0..1) as a percentage with one decimal."""
    return "" if share is None else number(share * 100, lang, digits=1) + "%"


def day(value: date | None, lang: str) -> str:
    """A date as people of ``lang`` write it: 30 Nov 2026, 2026年11月30日."""
    if value is None:
        return ""
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def moment(value: datetime | None, lang: str, *, seconds: bool = False) -> str:
    """A stored time (UTC; naive values are UTC) in ``lang``'s date format, to the minute."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    clock = f"{value:%H:%M:%S}" if seconds else f"{value:%H:%M}"
    return f"{day(value.date(), lang)} {clock} UTC"
