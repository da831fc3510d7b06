"""Every word the portal shows, in one place so it can be reviewed and translated (templates hold no Chinese).

`TEXT` is what the templates read as `t.<key>`; the other tables name the registry's enum values and the
portal's own refusals (by field and rule, like the registry's error shape).
"""
from registry.cases.models import Sex
from registry.institutions.models import InstitutionStatus, InstitutionType, PricingBasis, ServiceCategory
from registry.publications.models import PublicationCategory

LANG = "zh-CN"

TEXT: dict[str, str] = {
    # the layout
    "platform_suffix": "殡葬服务平台",
    "skip_link": "跳到主要内容",
    "nav_label": "网站导航",
    "nav_home": "首页",
    "nav_directory": "殡葬服务机构",
    "nav_verify": "火化证明查验",
    "nav_policies": "政务公开",
    "footer_note": "本平台公开殡葬服务机构的基本信息、收费标准和殡葬政策文件，供群众查询。",
    "footer_api": "数据接口说明",
    "all_provinces": "全国各省份平台",
    "breadcrumb_label": "当前位置",
    # the gateway's index of provinces
    "index_title": "全国殡葬服务平台",
    "index_lead": "请选择您所在的省份，查询当地的殡葬服务机构和收费标准。",
    "index_ministry": "民政部",
    "index_provinces": "各省、自治区、直辖市",
    "index_empty": "目前没有正在运行的省份平台。",
    # the home page of a province
    "home_lead": "查询本地殡仪馆、公墓等殡葬服务机构的地址、联系方式和收费标准。",
    "home_search_heading": "查找殡葬服务机构",
    "home_browse_heading": "按机构类型浏览",
    "home_services_heading": "您可以在这里",
    "home_service_find": "查找附近的殡葬服务机构及其联系方式",
    "home_service_fees": "查看各项殡葬服务的收费标准和执行日期",
    "home_service_licence": "核对机构的许可证号和统一社会信用代码",
    "home_service_verify": "查验火化证明是否有效",
    # the directory
    "directory_title": "殡葬服务机构",
    "directory_lead": "按名称或地址查找，也可以按地区和机构类型筛选。",
    "search_label": "机构名称或地址",
    "search_hint": "例如：殡仪馆、公墓或街道名称",
    "search_button": "搜索",
    "filter_button": "筛选",
    "type_label": "机构类型",
    "region_label": "所在地区",
    "any_type": "全部类型",
    "any_region": "全部地区",
    "results_count": "本页显示 {count} 家机构",
    "results_none": "没有找到符合条件的机构。请换一个关键词，或选择“全部类型”“全部地区”。",
    "page_label": "分页",
    "page_current": "第 {page} 页",
    "page_previous": "上一页",
    "page_next": "下一页",
    "error_summary_title": "请修改以下内容",
    "error_prefix": "错误：",
    # an institution
    "details_heading": "基本信息",
    "address": "地址",
    "region": "所在地区",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "licence_no": "许可证号",
    "credit_code": "统一社会信用代码",
    "institution_type": "机构类型",
    "institution_status": "经营状态",
    "not_published": "未公布",
    "opening_hours": "服务时间",
    "commitments_heading": "服务承诺",
    "commitments_none": "该机构尚未公布服务承诺。",
    "supervision_heading": "监督投诉",
    "supervision_lead": "对该机构的服务或收费有意见，可以向以下部门反映。",
    "supervising_authority": "主管民政部门",
    "complaint_phone": "监督投诉电话",
    "fees_heading": "收费标准",
    "fees_caption": "{name}收费标准（{date}执行）",
    "fees_lead": "以下是 {date} 正在执行的收费项目。基本殡葬服务实行政府定价或政府指导价。",
    "fees_none": "该机构尚未公布收费标准。",
    "fee_item": "服务项目",
    "fee_category": "类别",
    "fee_price": "收费标准",
    "fee_unit": "计价单位",
    "fee_basis": "定价方式",
    "fee_from": "执行日期",
    "fee_from_value": "{date}起",
    "fee_until_value": "至{date}",
    "yuan": "{amount} 元",
    "date": "{year}年{month}月{day}日",
    "back_to_directory": "返回机构列表",
    # verifying a cremation certificate
    "verify_title": "火化证明查验",
    "verify_lead": "输入火化证明上的证明编号和查验码，或用手机扫描证明上的二维码，即可查验证明是否有效。"
                   "查验结果只显示证明的状态，不显示逝者的任何信息。",
    "verify_number_label": "证明编号",
    "verify_number_hint": "印在火化证明右上方，例如：110000-2026-000042",
    "verify_code_label": "查验码",
    "verify_code_hint": "8 位字母和数字，印在证明编号下方，不区分大小写",
    "verify_button": "查验",
    "verify_result_heading": "查验结果",
    "verify_status": "证明状态",
    "verify_number": "证明编号",
    "verify_issued_on": "签发日期",
    "verify_institution": "出具机构",
    "verify_cancelled_on": "作废日期",
    "verify_valid": "有效",
    "verify_valid_note": "该火化证明真实有效。",
    "verify_cancelled": "已作废",
    "verify_cancelled_note": "该火化证明已作废，不能再作为火化证明使用。如有疑问，请联系出具机构。",
    "verify_reissued": "已补发",
    "verify_reissued_note": "该火化证明已作废，出具机构已补发新的火化证明。请以新证明为准。",
    "verify_not_found": "未查到",
    "verify_not_found_note": "没有查到与该证明编号和查验码相符的火化证明。请核对后重新输入；编号或查验码有误时也会显示此结果。",
    "verify_forged": "无效（二维码可能被伪造或篡改）",
    "verify_forged_note": "该二维码的电子签名未通过验证，不是本平台签发的。请勿使用该证明，并向出具机构或民政部门反映。",
    "verify_signature_ok": "二维码电子签名验证通过（SM2）。",
    "verify_limited_title": "暂停查验",
    "verify_limited": "查验错误次数过多，请稍后再试。",
    "verify_again": "查验其他证明",
    # the printed certificate
    "print_title": "火化证明",
    "print_number": "证明编号",
    "print_deceased_name": "逝者姓名",
    "print_sex": "性别",
    "print_age": "年龄",
    "print_age_value": "{age} 岁",
    "print_id_number": "证件号码",
    "print_cremated_on": "火化日期",
    "print_institution": "火化机构",
    "print_issued_on": "签发日期",
    "print_check_code": "查验码",
    "print_qr_label": "火化证明查验二维码",
    "print_verify_note": "可扫描二维码，或在{platform}网站“火化证明查验”栏目输入证明编号和查验码，查验本证明是否有效。",
    "print_button": "打印",
    "print_none": "无",
    # policies, guides and notices
    "policies_title": "政务公开",
    "policies_lead": "本省民政部门发布的殡葬政策法规、办事指南和通知公告。",
    "policies_categories_label": "文件类别",
    "policies_all": "全部",
    "policies_search_label": "标题关键词",
    "policies_search_hint": "例如：火化、骨灰安放、清明",
    "policies_count": "共 {count} 份文件",
    "policies_none": "没有找到符合条件的文件。请换一个关键词，或查看“全部”类别。",
    "policy_category": "类别",
    "document_number": "文号",
    "issuing_authority": "发布机关",
    "effective_date": "施行日期",
    "published_on": "发布日期",
    "updated_on": "更新日期",
    "back_to_policies": "返回政务公开",
    "home_latest_heading": "最新发布",
    "home_latest_none": "暂无发布的文件。",
    "home_latest_all": "查看全部政策法规、办事指南和通知公告",
    # the ministry's portal (portal.national)
    "national_title": "全国殡葬服务平台",
    "national_lead": "查询全国各省份的殡葬服务机构、收费标准和服务承诺，查看全国殡葬服务数据。",
    "national_search_heading": "在全国查找殡葬服务机构",
    "national_provinces_heading": "各省份殡葬服务平台",
    "national_provinces_lead": "以下省份已向民政部报送数据。选择省份，进入该省份的殡葬服务平台。",
    "national_provinces_none": "目前还没有省份报送数据。",
    "national_directory_lead": "查找全国各省份公开的殡葬服务机构，可以按省份、地区和机构类型筛选。",
    "national_results_count": "共找到 {count} 家机构",
    "national_figures_link": "查看全国殡葬服务数据",
    "nav_figures": "全国数据",
    "province": "所在省份",
    "any_province": "全部省份",
    "held_by": "{province}报送",
    "figures_title": "全国殡葬服务数据",
    "figures_lead": "以下数据由各省份报送的记录汇总而成，只统计数量，不公开任何个人信息。",
    "figures_caption": "各省份殡葬服务数据（{year}年）",
    "figures_province": "省份",
    "figures_deaths_this_year": "{year}年死亡登记",
    "figures_deaths_last_year": "{year}年死亡登记",
    "figures_cremations": "{year}年火化",
    "figures_certificates": "{year}年发放火化证明",
    "figures_total": "合计",
    "figures_none": "目前还没有省份报送数据。",
    "figures_note": "死亡登记按死亡日期（北京时间）统计；补发的火化证明不重复计算。",
    "count": "{count:,}",
    # errors
    "not_found_title": "找不到该页面",
    "not_found_lead": "您要找的页面不存在，可能地址有误，或该机构、文件已不再公开。",
    "not_found_back": "返回首页",
}

TYPE_NAMES: dict[InstitutionType, str] = {
    InstitutionType.funeral_home: "殡仪馆",
    InstitutionType.crematorium: "火葬场",
    InstitutionType.commercial_cemetery: "经营性公墓",
    InstitutionType.public_cemetery: "公益性公墓",
    InstitutionType.columbarium: "骨灰堂",
    InstitutionType.service_station: "殡仪服务站",
}

STATUS_NAMES: dict[InstitutionStatus, str] = {
    InstitutionStatus.active: "正常服务",
    InstitutionStatus.suspended: "暂停服务",
    InstitutionStatus.closed: "已关闭",
}

CATEGORY_NAMES: dict[ServiceCategory, str] = {
    ServiceCategory.basic: "基本服务",
    ServiceCategory.optional: "选择性服务",
}

BASIS_NAMES: dict[PricingBasis, str] = {
    PricingBasis.government_set: "政府定价",
    PricingBasis.government_guided: "政府指导价",
    PricingBasis.market: "市场调节价",
}

SEX_NAMES: dict[Sex, str] = {
    Sex.unknown: "未知的性别",
    Sex.male: "男",
    Sex.female: "女",
    Sex.unspecified: "未说明的性别",
}

PUBLICATION_CATEGORY_NAMES: dict[PublicationCategory, str] = {
    PublicationCategory.policy: "政策法规",
    PublicationCategory.guide: "办事指南",
    PublicationCategory.notice: "通知公告",
}

# the portal's own refusals of a form's input, by (field, rule)
ERRORS: dict[tuple[str, str], str] = {
    ("type", "choice"): "请从列表中选择机构类型",
    ("region", "choice"): "请从列表中选择所在地区",
    ("q", "max_length"): "机构名称或地址不能超过 {max_length} 个字",
    ("province", "choice"): "请从列表中选择省份",
    ("page", "page_number"): "页码应为 1 到 {max_page} 之间的整数",
    ("number", "missing"): "请输入证明编号",
    ("number", "max_length"): "证明编号不能超过 {max_length} 个字符",
    ("check_code", "missing"): "请输入查验码",
    ("check_code", "max_length"): "查验码不能超过 {max_length} 个字符",
    ("category", "choice"): "请从列表中选择文件类别",
}
# the same refusals where a form words them differently, by (form, field, rule)
FORM_ERRORS: dict[tuple[str, str, str], str] = {
    ("policies", "q", "max_length"): "标题关键词不能超过 {max_length} 个字",
}
