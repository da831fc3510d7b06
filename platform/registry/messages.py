"""What refusals say to people, in Chinese by default and in English on request: one catalog for the registry.

A refusal keeps its machine-readable `field` and `rule`; the message is looked up here by rule, with the
field's name in the reader's language and the rule's parameters (a length, the allowed values). Rules the
catalog does not know keep the English sentence the service wrote; a test makes sure every rule raised in the
registry has its Chinese sentence.
"""
import re
import string
from collections.abc import Mapping

ZH, EN = "zh", "en"
LANGUAGES = (ZH, EN)

# the names staff know fields by; a dotted field is named by its last word part (`informant.phone`)
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "address": ("地址", "address"), "after": ("起始序号", "after"), "archive_ref": ("档案号", "archive number"),
    "arrived_at": ("到达时间", "arrival time"), "authorization": ("身份凭证", "credentials"),
    "birth_date": ("出生日期", "date of birth"), "body": ("请求内容", "request body"),
    "cabinet_no": ("冷藏柜号", "cabinet number"), "certificate_id": ("火化证明", "certificate"),
    "check_code": ("查验码", "check code"), "case_id": ("业务编号", "case"), "category": ("类别", "category"),
    "commitments": ("服务承诺", "service commitments"), "complaint_phone": ("监督投诉电话", "complaint phone"),
    "opening_hours": ("服务时间", "opening hours"), "supervising_authority": ("主管民政部门", "supervising authority"),
    "cause_category": ("死亡原因类别", "cause of death"), "changes": ("更正内容", "changes"),
    "contact_name": ("联系人", "contact name"), "contact_phone": ("联系电话", "contact phone"),
    "credit_code": ("统一社会信用代码", "unified social credit code"), "death_at": ("死亡时间", "time of death"),
    "death_certificate_no": ("死亡医学证明编号", "death medical certificate number"),
    "death_manner": ("死亡方式", "manner of death"), "death_place_type": ("死亡地点类型", "place of death"),
    "deceased_name": ("逝者姓名", "name of the deceased"), "departed_at": ("出发时间", "departure time"),
    "description": ("说明", "description"), "destination": ("去向", "destination"),
    "died_from": ("死亡日期（起）", "died from"), "died_to": ("死亡日期（止）", "died to"),
    "effective_from": ("生效日期", "effective from"), "history": ("历史价格", "history"), "effective_to": ("截止日期", "effective to"),
    "ended_at": ("结束时间", "end time"), "ethnicity": ("民族", "ethnicity"), "from_address": ("起运地址", "from"),
    "furnace_no": ("火化炉号", "furnace number"), "household_region": ("户籍地", "household region"),
    "id_number": ("证件号码", "ID number"), "id_type": ("证件类型", "ID type"),
    "informant": ("经办人", "informant"), "line": ("行", "line"), "institution_id": ("殡葬服务机构", "institution"),
    "interred_at": ("安葬时间", "interment time"), "kind": ("类型", "kind"),
    "licence_no": ("许可证号", "licence number"), "limit": ("每页条数", "limit"), "name": ("名称", "name"),
    "note": ("备注", "note"), "number": ("证明编号", "number"), "offset": ("跳过条数", "offset"), "on": ("日期", "date"),
    "operator_name": ("操作人员", "operator"), "path": ("地址", "path"), "phone": ("电话", "phone"),
    "plot_or_niche": ("墓位或格位", "plot or niche"), "price_fen": ("价格（分）", "price (fen)"),
    "pricing_basis": ("定价方式", "pricing basis"), "reason": ("原因", "reason"), "records": ("记录", "records"),
    "region_code": ("行政区划代码", "region code"), "relation": ("与逝者关系", "relation"),
    "released_at": ("出柜时间", "release time"), "remains_form": ("遗体或骨灰", "remains form"),
    "sex": ("性别", "sex"), "started_at": ("开始时间", "start time"), "status": ("状态", "status"),
    "storage_id": ("存放记录", "storage"), "stored_at": ("入柜时间", "storage time"),
    "to_address": ("目的地址", "to"), "type": ("类型", "type"), "unit": ("计价单位", "unit"),
    "vehicle_plate": ("车牌号", "vehicle plate"),
    # policies, guides and notices
    "title": ("标题", "title"), "document_number": ("文号", "document number"),
    "issuing_authority": ("发布机关", "issuing authority"), "content": ("正文", "content"),
    "summary": ("摘要", "summary"), "effective_date": ("施行日期", "effective date"),
    "publication_id": ("文件", "publication"), "page": ("页码", "page"), "q": ("搜索关键词", "search words"),
    # the audit trail's filters
    "action": ("操作", "action"), "actor": ("操作人", "actor"), "at_from": ("日期（起）", "from"),
    "at_to": ("日期（止）", "to"), "before": ("截止序号", "before"), "newest_first": ("排序", "order"),
    "object_id": ("对象编号", "object"), "object_type": ("对象类型", "object type"), "result": ("结果", "result"),
    # online approvals (网上审批)
    "approval_id": ("审批事项", "approval"), "organisation_name": ("申请单位", "applicant organisation"),
    "facility_type": ("设施类型", "facility type"), "change_kind": ("建设类型", "kind of change"),
    "facility": ("殡葬设施申请内容", "facility details"), "transport": ("遗体运输申请内容", "transport details"),
    "from_region": ("起运地行政区划", "from region"), "from_place": ("起运地点", "from place"),
    "to_region": ("目的地行政区划", "to region"), "to_place": ("目的地点", "to place"),
    "planned_on": ("计划运输日期", "planned date"), "escort_name": ("护送人", "escort"),
    "escort_phone": ("护送人电话", "escort phone"), "reasons": ("理由", "reasons"), "opinion": ("意见", "opinion"),
    "overdue": ("是否超期", "overdue"), "attachment_id": ("附件", "attachment"), "file": ("文件", "file"),
    "permit_number": ("运输证编号", "permit number"),
    # reservations and remote farewell
    "resource_id": ("预约项目", "resource"), "booking_id": ("预约", "booking"), "capacity": ("每时段名额", "capacity"),
    "slot_minutes": ("每时段分钟数", "slot length"), "opens_at": ("开始预约时刻", "opening time"),
    "closes_at": ("结束预约时刻", "closing time"), "weekdays": ("可预约的星期", "weekdays"),
    "advance_days": ("最多提前预约天数", "days ahead"), "service_item_id": ("收费项目", "fee item"),
    "free_by_policy": ("基本殡葬服务减免", "free by policy"), "starts_at": ("开始时间", "start time"),
    "ends_at": ("结束时间", "end time"), "for_name": ("服务对象姓名", "name"), "for_phone": ("联系电话", "phone"),
    "join_link": ("视频链接", "join link"), "invitees": ("受邀亲属", "invitees"),
    "invitation_code": ("邀请码", "invitation code"),
    # complaints and memorials
    "complaint_id": ("投诉", "complaint"), "text": ("内容", "text"), "contact": ("联系电话", "contact"),
    "answer": ("答复内容", "answer"), "resolved": ("是否解决", "resolved"), "upheld": ("是否属实", "upheld"),
    "year": ("年份", "year"),
    "memorial_id": ("纪念馆", "memorial"), "message_id": ("留言", "message"),
    "death_date": ("逝世日期", "date of death"), "biography": ("生平简介", "biography"),
    "visibility": ("公开范围", "visibility"), "consent": ("同意声明", "consent"),
    "consented_by": ("同意人", "consenting person"),
    "author_name": ("署名", "signed as"), "offering": ("祭品", "offering"), "decision": ("审核结果", "decision"),
}

# rule → (Chinese, plain English or None to keep the service's own English sentence)
RULES: dict[str, tuple[str, str | None]] = {
    # the validation library's rules
    "missing": ("请填写{name}。", "{name} is required."),
    "extra_forbidden": ("不接受“{field}”，请删除此项。", "{field} is not accepted here; remove it."),
    "string_too_short": ("{name}至少需要 {min_length} 个字符。", "{name} needs at least {min_length} characters."),
    "string_too_long": ("{name}最多 {max_length} 个字符。", "{name} can have at most {max_length} characters."),
    "string_pattern_mismatch": ("{name}的格式不正确{hint_zh}。", "{name} is not in the expected form{hint_en}."),
    "string_type": ("{name}应为文字。", "{name} must be text."),
    "int_parsing": ("{name}应为整数。", "{name} must be a whole number."),
    "int_type": ("{name}应为整数。", "{name} must be a whole number."),
    "int_from_float": ("{name}应为整数。", "{name} must be a whole number."),
    "float_parsing": ("{name}应为数字。", "{name} must be a number."),
    "float_type": ("{name}应为数字。", "{name} must be a number."),
    "bool_parsing": ("{name}应为 true 或 false。", "{name} must be true or false."),
    "bool_type": ("{name}应为 true 或 false。", "{name} must be true or false."),
    "greater_than_equal": ("{name}不能小于 {ge}。", "{name} must be at least {ge}."),
    "less_than_equal": ("{name}不能大于 {le}。", "{name} must be at most {le}."),
    "greater_than": ("{name}必须大于 {gt}。", "{name} must be greater than {gt}."),
    "less_than": ("{name}必须小于 {lt}。", "{name} must be less than {lt}."),
    "date_parsing": ("{name}应为日期，例如 2024-05-06。", "{name} must be a date such as 2024-05-06."),
    "date_type": ("{name}应为日期，例如 2024-05-06。", "{name} must be a date such as 2024-05-06."),
    "date_from_datetime_parsing": ("{name}应为日期，例如 2024-05-06。", "{name} must be a date such as 2024-05-06."),
    "date_from_datetime_inexact": ("{name}应为日期，不带时刻。", "{name} must be a date without a time."),
    "datetime_parsing": ("{name}应为时间，例如 2024-05-06T10:00:00+08:00。",
                         "{name} must be a time such as 2024-05-06T10:00:00+08:00."),
    "datetime_type": ("{name}应为时间，例如 2024-05-06T10:00:00+08:00。",
                      "{name} must be a time such as 2024-05-06T10:00:00+08:00."),
    "datetime_from_date_parsing": ("{name}应为时间，例如 2024-05-06T10:00:00+08:00。",
                                   "{name} must be a time such as 2024-05-06T10:00:00+08:00."),
    "timezone_aware": ("{name}须注明时区，例如 +08:00。", "{name} must state its time zone, e.g. +08:00."),
    "enum": ("{name}只能是以下之一：{expected}。", "{name} must be one of {expected}."),
    "literal_error": ("{name}只能是以下之一：{expected}。", "{name} must be one of {expected}."),
    "uuid_parsing": ("{name}应为编号（UUID）。", "{name} must be an identifier (UUID)."),
    "uuid_type": ("{name}应为编号（UUID）。", "{name} must be an identifier (UUID)."),
    "json_invalid": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    "model_type": ("{name}应为一个对象（{{…}}）。", "{name} must be an object ({{…}})."),
    "model_attributes_type": ("{name}应为一个对象（{{…}}）。", "{name} must be an object ({{…}})."),
    "dict_type": ("{name}应为一个对象（{{…}}）。", "{name} must be an object ({{…}})."),
    "list_type": ("{name}应为列表（[…]）。", "{name} must be a list ([…])."),
    "too_short": ("{name}至少需要 {min_length} 项。", "{name} needs at least {min_length} items."),
    "too_long": ("{name}最多 {max_length} 项。", "{name} can have at most {max_length} items."),
    "value_error": ("{name}的值不正确。", None),
    "exists": ("{name}不存在，或您无权查看。", None),
    # people and documents
    "id_checksum": ("身份证号码不正确：应为 18 位，末位校验码须与前 17 位相符（GB 11643）。", None),
    "id_birth_date": ("身份证号码中的出生日期无效，或与填写的出生日期不一致。", None),
    "id_region": ("身份证号码前 6 位不是任何时期的县级行政区划代码（GB/T 2260）。", None),
    "id_number_absent": ("证件类型为“无”（身份不明）时，请不要填写证件号码。", None),
    "credit_code": ("{name}不是有效的统一社会信用代码（GB 32100）。", None),
    "ethnicity_code": ("{name}不是有效的民族代码（GB/T 3304）。", None),
    "region_code_known": ("{name}不是有效的行政区划代码（GB/T 2260）。", None),
    "region_in_province": ("{name}不在本省（区、市）范围内。", None),
    "correctable_field": ("“{field}”不能通过更正修改。", None),
    # dates and times
    "date_order": ("{name}与相关日期的先后顺序不对，请检查。", None),
    "dimension": ("该统计项不能按所选维度分组，请换一个分组方式。", None),
    "too_early": ("{name}不能早于 {earliest}。", "{name} must not be before {earliest}."),
    "not_future": ("{name}不能晚于当前时间。", None),
    "after_death": ("{name}不能早于逝者的死亡时间。", None),
    # the work's own rules
    "not_applicable": ("此种去向没有{name}，请删除此项。", None),
    "basic_service_pricing": ("基本殡葬服务只能实行政府定价或政府指导价，不能市场调节价。", None),
    "placement_of_ashes": ("格位只能安放骨灰；遗体请选择安葬。", None),
    "death_certificate_required": ("该业务没有死亡医学证明编号，请先更正业务信息。", None),
    "status_flow": ("该业务当前的状态不允许此项操作。", None),
    "archived": ("该业务已归档，不能再修改。", None),
    "concurrent_change": ("该业务在您操作期间被他人修改，请重新打开后再试。", None),
    "unique": ("已有相同的记录，不能重复登记。", None),
    "duplicate_id_number": ("已有相同证件号码的逝者业务，可能是重复申报。", None),
    "duplicate_name_birth_death": ("已有姓名、出生日期相同且死亡时间相近的业务，可能是重复申报。", None),
    "archive_ref_repeated": ("本次导入中已有相同档案号的记录。", None),
    "archive_ref_conflict": ("该档案号已导入为另一人的业务。", None),
    "bulk_imported": ("该业务不是批量补录导入的，没有导入凭证可查。", None),
    # rows `fsp backfill` cannot read (the registry checks the rest)
    "date_format": ("{name}“{value}”不是有效日期，请写作 2015-03-02、2015/3/2 或 2015年3月2日（可带时刻，如 10:30）。",
                    "{name} '{value}' is not a valid date: write 2015-03-02, 2015/3/2 or 2015年3月2日 (a time may "
                    "follow, e.g. 10:30)."),
    "json_line": ("此行不是一个 JSON 对象（{{…}}）。", "This line is not a JSON object ({{…}})."),
    "publication_status": ("该文件当前的状态不允许此项操作：草稿可以发布，已发布的可以修改或撤回，已撤回的不能再修改。", None),
    "complaint_status": ("该投诉当前的状态不允许此项操作。", None),
    "memorial_removed": ("该纪念馆已被家属撤除。", "This memorial was removed by the family."),
    "invitation_code": ("邀请码不正确，请向逝者家属索取。", None),
    "message_status": ("该留言已审核，不能重复审核。", None),
    "consent_required": ("创建纪念馆须由家属确认同意。", None),
    "message_or_offering": ("请填写留言或选择祭品（可两者都有）。", None),
    "too_many_messages": ("留言过于频繁，请稍后再试。", "Too many messages; try again later."),
    "nothing_to_change": ("请至少填写一项要修改的内容。", None),
    "price_overlap": ("该服务项目在这段时间已有价格，同一天只能有一个价格。", None),
    "not_retroactive": ("已公布的收费不能追溯修改：新价格最早从今天起执行，结束日期最早为昨天。", None),
    "already_ended": ("该价格已设定更早的结束日期。", None),
    "exclusive": ("请只选择其一：某一天的价格（on），或全部历史价格（history）。", None),
    "already_interred": ("该逝者的安葬（安放）已经登记，不能重复登记。", None),
    "plot_occupied": ("该墓位或格位已被占用。", None),
    "already_stored": ("遗体仍在冷藏柜中，请先办理出柜。", None),
    "cabinet_occupied": ("该冷藏柜已被占用。", None),
    "already_released": ("该存放记录已办理出柜。", None),
    "cremation_required": ("该业务还没有火化记录。", None),
    "one_valid_certificate": ("该业务已有有效的火化证明；如需重新出具，请办理补发。", None),
    "valid_certificate_required": ("该业务没有有效的火化证明。", None),
    "too_many_attempts": ("查验错误次数过多，请稍后再试。", "Too many wrong checks; try again later."),
    "institution_type": ("此项业务需要另一类型的殡葬服务机构。", None),
    # reservations and remote farewell
    "weekdays": ("{name}请填写 1（星期一）至 7（星期日）的数字，每个最多一次，例如“12345”。", None),
    "clock_time": ("{name}请填写时和分，例如 08:30，按北京时间。", None),
    "resource_closed": ("该预约项目已停止接受预约。", None),
    "slot_future": ("该时段已经开始或已过去，请选择以后的时段。", None),
    "booking_window": ("该项目最多可提前 {advance_days} 天预约，请选择更近的日期。", None),
    "slot_start": ("该项目没有这个时段，请从可预约时段中选择。", None),
    "slot_full": ("该时段已约满，请选择其他时段。", None),
    "same_slot": ("预约已在这个时段，无需改约。", None),
    "booking_status": ("该预约已取消或已超时失效，不能办理此项操作。", None),
    "booking_started": ("该预约的时段已经开始或已过去，不能再变更或取消。", None),
    "service_item_of_institution": ("所选收费项目不是本机构公示的收费项目。", None),
    "free_basic_only": ("只有基本殡葬服务才能按政策减免费用，请先选择基本服务收费项目。", None),
    "farewell_hall_only": ("只有告别厅预约才能设置远程告别。", None),
    "farewell_time": ("远程告别的时间须与预约的告别时段相重合。", None),
    "https_link": ("{name}须是视频服务提供的 https:// 链接，且不含用户名或密码。", None),
    "farewell_invitation": ("邀请码不正确，或该远程告别已取消。", None),
    # who may do what
    "institution_active": ("该殡葬服务机构已暂停或注销，不能办理此项业务。", None),
    "institution_binding": ("您的账号只能办理本机构的业务。", None),
    "permission": ("您的角色没有此项操作的权限。", None),
    "separation_of_duties": ("系统管理员、安全管理员和审计管理员不能由同一人兼任（三员分立）。", None),
    "bearer_token": ("请先登录：缺少有效的身份凭证，或凭证已过期。", None),
    # requests
    "no_markup": ("{name}只能是纯文本，不能含有 HTML 标记（如“<p>”）。", None),
    "plain_text": ("{name}含有不允许的字符（控制字符或文字方向控制符），请删除。", None),
    "body_decoding": ("请求内容不是 UTF-8 编码的文字。", None),
    "max_size": ("请求内容过大。", None),
    "route": ("没有这个地址。", None),
    "method": ("此地址不支持这种请求方法。", None),
    "storable": ("内容中有无法保存的字符（例如控制字符）。", None),
    "constraint": ("与同时提交的另一条记录冲突，请重试。", None),
    "internal": ("服务器内部错误，已记录，请稍后再试。", None),
    # online approvals (网上审批)
    "approval_status": ("该申请当前的状态不允许此项操作（例如尚未受理的申请不能审查，已办结的不能再改）。", None),
    "cross_province": ("目的地与起运地在同一省份：跨省运输的目的地须在外省。", None),
    "attachment_type": ("附件只能是 PDF、JPEG 或 PNG 文件（按文件内容判断，不看文件名）。", None),
    "attachment_size": ("附件过大，最大 {max_bytes} 字节。", None),
    "attachment_infected": ("附件未通过病毒扫描，已拒收。", None),
    "attachment_scan": ("附件暂时无法完成病毒扫描，请稍后再试。", None),
    "attachments_full": ("每个申请最多 {max_count} 个附件。", None),
    # the exchange between provinces and the ministry (machines read the rule)
    "matches_registration": ("省份编码与登记信息不符。", None),
    "no_gap": ("批次序号不连续。", None),
    "matches_received": ("该序号已以另一事件编号接收。", None),
}

# what a pattern expects, for fields people type
FORMATS: dict[str, tuple[str, str]] = {
    "phone": ("数字，可含“+”和“-”，6 至 20 位", "digits, with + or - allowed, 6 to 20 long"),
    "contact_phone": ("数字，可含“+”和“-”，6 至 20 位", "digits, with + or - allowed, 6 to 20 long"),
    "complaint_phone": ("数字，可含“+”和“-”，6 至 20 位", "digits, with + or - allowed, 6 to 20 long"),
    "death_certificate_no": ("4 至 32 位字母、数字或“-”", "4 to 32 letters, digits or -"),
    "archive_ref": ("字母或数字开头，可含“. _ / -”，最多 64 位", "a letter or digit, then letters, digits or . _ / -"),
    "region_code": ("6 位数字", "6 digits"), "household_region": ("6 位数字", "6 digits"),
}

TITLES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "bad request"), 401: ("未登录或凭证无效", "unauthorized"), 403: ("无权操作", "forbidden"),
    404: ("未找到", "not found"), 405: ("请求方法不允许", "method not allowed"), 409: ("冲突", "conflict"),
    410: ("已撤除", "gone"), 413: ("请求内容过大", "request body too large"), 422: ("输入有误", "invalid input"),
    429: ("请求过于频繁", "too many requests"),
    500: ("服务器内部错误", "internal error"),
}

_TAG = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def language_of(accept_language: str | None) -> str:
    """The reader's language from Accept-Language: English only when it is preferred to Chinese."""
    best, best_q = ZH, -1.0
    for part in (accept_language or "").split(","):
        match = _TAG.match(part)
        if not match:
            continue
        language, q = match.group(1).lower(), match.group(2)
        try:
            weight = float(q) if q is not None else 1.0
        except ValueError:
            continue
        if language in LANGUAGES and weight > best_q:
            best, best_q = language, weight
    return best


def field_name(field: str, language: str) -> str:
    """The field as its readers call it: `informant.phone` → 电话."""
    words = [w for w in field.split(".") if w and not w.isdigit()]
    for word in reversed(words):
        if word in FIELD_NAMES:
            return FIELD_NAMES[word][LANGUAGES.index(language)]
    return field


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return ""


def message(rule: str, field: str, *, language: str, fallback: str, params: Mapping | None = None) -> str:
    """The sentence for one refusal: the catalog's, or the service's own English one."""
    templates = RULES.get(rule)
    template = templates[LANGUAGES.index(language)] if templates else None
    if template is None:
        return fallback
    leaf = field.rsplit(".", 1)[-1]
    hint = FORMATS.get(leaf)
    values = _Params({key: _text(value) for key, value in (params or {}).items()})
    if language == ZH and "expected" in values:  # the library lists choices in English: '1', '2' or '9'
        values["expected"] = values["expected"].replace(" or ", "、").replace(", ", "、")
    values.update(name=field_name(field, language), field=field,
                  hint_zh=f"（应为{hint[0]}）" if hint else "", hint_en=f" ({hint[1]})" if hint else "")
    return string.Formatter().vformat(template, (), values)


def title(status: int, language: str, fallback: str) -> str:
    titles = TITLES.get(status)
    return titles[LANGUAGES.index(language)] if titles else fallback


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    return str(value)


# online services (网上办事): query codes (查询码) and citizens
FIELD_NAMES["code"] = ("查询码", "query code")
RULES.update({
    "query_code_format": ("查询码格式不正确：应为 12 位字母和数字（可用“-”分组，不区分大小写）。",
                          "Not a query code: 12 letters and digits (dashes between groups allowed)."),
    "query_code_unknown": ("没有查到与该查询码相符的办件。请核对后重新输入。", "No item has this query code."),
})


# equipment telemetry (设备监测): devices of an institution, their readings, a cremation's cremator cycle
FIELD_NAMES.update({
    "device_id": ("设备", "device"), "cycle": ("火化炉次", "cremator cycle"), "model": ("设备型号", "model"),
    "location": ("安装位置", "location"), "limits": ("报警限值", "limits"), "readings": ("监测数据", "readings"),
    "temperature_max_c": ("温度上限（℃）", "temperature limit (°C)"),
    "cycle_max_minutes": ("单炉最长时间（分钟）", "longest cycle (minutes)"),
    "emission_max_mg_m3": ("排放上限（mg/m³）", "emission limit (mg/m³)"),
})
RULES.update({
    "device_credential": ("设备凭证无效、已更换或设备已停用。",
                          "The device credential is not valid, was replaced, or the device is revoked."),
    "limit_of_kind": ("这类设备没有该项限值。", "This kind of device has no such limit."),
    "device_revoked": ("该设备已停用。", "The device is revoked."),
    "device_kind": ("该设备不是火化炉。", "The device is not a cremator."),
    "cycle_unknown": ("该火化炉没有上报这一炉次的开始。", "The cremator reported no start of this cycle."),
    "cycle_unfinished": ("这一炉次尚未结束。", "This cycle has not ended."),
})

# payments (网上缴费) of booked services
FIELD_NAMES.update({"return_path": ("返回地址", "return path"), "notice": ("支付通知", "payment notice"),
                    "payment": ("网上缴费", "payment"), "day": ("日期", "day")})
TITLES.setdefault(503, ("服务暂不可用", "service unavailable"))
RULES.update({
    "site_path": ("{name}须是本网站的路径，以一个“/”开头。", None),
    "payment_free": ("该服务属于基本殡葬服务减免项目，费用全免，无需支付。", None),
    "payment_unpriced": ("该预约项目没有公示收费标准，不能网上缴费，请到机构窗口办理。", None),
    "payment_settled": ("该预约已经支付，无需重复支付。", None),
    "payment_started": ("该预约的支付刚刚已经发起，请刷新页面后继续。", None),
    "payment_unavailable": ("本省暂未开通网上缴费，请到机构窗口缴费。", None),
    "payment_provider": ("支付机构暂时无法受理，未产生任何扣款，请稍后再试。", None),
    "notice_signature": ("支付通知的签名无效。", None),
    "notice_stale": ("支付通知已过期（签名时间与当前相差超过 5 分钟）。", None),
    "notice_replayed": ("该支付通知已经收到过，不再受理（重放）。", None),
    "notice_order": ("支付通知与订单不符：没有这个订单，或该订单没有申请退款。", None),
    "notice_amount": ("支付通知的金额与订单金额不符。", None),
    "notice_body": ("支付通知的内容格式不正确。", None),
    "too_many_notices": ("被拒绝的支付通知过多，请稍后再试。", None),
})

# satisfaction ratings (满意度评价)
FIELD_NAMES.update({"score": ("评分", "score"), "comment": ("评价内容", "comment"), "rating_id": ("评价", "rating"),
                    "held": ("待审核", "held for review")})
RULES.update({
    "service_not_completed": ("该服务尚未完成：预约经确认且服务时段结束后才能评价。",
                              "Only a completed service can be rated: a confirmed booking whose time has ended."),
    "already_rated": ("该服务已评价过，每项服务只能评价一次。", "This service has been rated already: once per service."),
    "comment_not_held": ("该评价没有待审核的内容。", None),
})

# tenant lifecycle: a suspended tenant (`fsp suspend`) and the exchange's epochs
FIELD_NAMES.update({"tenant": ("本省平台", "platform"), "epoch": ("交换批次周期", "exchange epoch")})
RULES.update({
    "tenant_suspended": ("本平台已暂停服务：暂时不能登录，也不能提交或修改信息；查询和公开信息不受影响，请稍后再试。",
                         "The platform is suspended: signing in and changes are refused for now; reading and public "
                         "pages are not affected. Try again later."),
    "epoch_closed": ("该省的数据交换已关闭（已退出平台），不再接收此周期的数据。", None),
    # `fsp serve`'s gateway: a tenant of the catalog it does not serve now (taken down, purged, being provisioned)
    "tenant_not_served": ("该省份平台目前未在此服务器上运行（已停止、正在开通或重新开通），请稍后再试。",
                          "This tenant is not served here now (taken down, or being provisioned again); try later."),
})

# institution credit evaluation (信用评价): annual inspections, administrative penalties, red and black lists
FIELD_NAMES.update({
    "inspected_on": ("检查日期", "inspection day"), "findings": ("检查发现的问题", "findings"),
    "decided_on": ("处罚决定日期", "decision day"), "decision_no": ("处罚决定书文号", "decision number"),
    "amount_fen": ("金额（分）", "amount (fen)"), "listing": ("红黑名单", "list"),
})
RULES.update({
    "inspection_year": ("年检日期应在所检年度内或次年。", "An inspection of a year is made in that year or the next."),
    "findings_required": ("年检结论为“基本合格”或“不合格”时，请列出检查发现的问题。",
                          "An inspection not fully qualified must name its findings."),
    "penalty_amount": ("罚款和没收违法所得须填写金额；警告、责令停业整顿、吊销许可证不填写金额。",
                       "A fine or confiscation has an amount; other kinds of penalty have none."),
    "inspection_recorded": ("该机构这一年度的年检已经登记过。", "This institution's inspection of that year is recorded already."),
    "penalty_recorded": ("该处罚决定书文号已经登记过。", "This penalty decision is recorded already."),
    "listing_unchanged": ("该机构已在所选名单中（或已不在任何名单中），无需变更。", "The institution is on this list already."),
})

# cross-province matches (跨省重复登记核查): the pairs the ministry returns, settled by the province's reviewers
FIELD_NAMES.update({"match_id": ("跨省重复登记线索", "cross-province match"), "finding": ("核查结论", "finding"),
                    "note": ("核查说明", "note"), "requested_at": ("请求时间", "request time")})
RULES.update({
    "match_settled": ("该线索已有核查结论，不能再次填写。", "This match has been settled already."),
    "fresh_request": ("请求时间与部平台时钟相差超过 5 分钟，请校准本省服务器时间后重试。", None),
})
