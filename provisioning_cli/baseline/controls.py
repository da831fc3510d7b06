"""The controls catalog: the GB/T 22239-2019 grade-3 and GB/T 39786-2021 grade-3 requirements this system can
meet, each cited by clause, worded in our own words, and mapped to the automated checks that show it.

Controls without checks carry `assessor`: what a person must look at (they report `manual`)."""
from provisioning_cli.baseline.findings import Control

DJ = "GB/T 22239-2019"  # 等级保护基本要求, 第三级
MP = "GB/T 39786-2021"  # 密码应用基本要求, 第三级

CONTROLS: tuple[Control, ...] = (
    # --- 8.1.4 安全计算环境 -----------------------------------------------------------------------------------------
    Control("DJ-IA-1", DJ, "8.1.4.1 a)", "身份鉴别：唯一标识与口令复杂度",
            "每个登录用户有唯一身份标识；口令有长度和字符类别要求，并定期更换。",
            ("realm.password_policy", "realm.personal_accounts")),
    Control("DJ-IA-2", DJ, "8.1.4.1 b)", "身份鉴别：登录失败处理与超时退出",
            "连续登录失败后锁定账户，会话闲置超时后自动退出。", ("realm.lockout", "realm.idle_timeout")),
    Control("DJ-IA-3", DJ, "8.1.4.1 c)", "身份鉴别：远程管理防窃听",
            "经网络进行管理时，鉴别信息在传输中加密（TLS）。", ("service.tls", "k8s.ingress_tls")),
    Control("DJ-IA-4", DJ, "8.1.4.1 d)", "身份鉴别：管理员双因素鉴别",
            "管理用户以两种或以上鉴别技术组合登录，其中一种使用密码技术（口令 + TOTP）。", ("realm.admin_otp",)),
    Control("DJ-IA-5", DJ, "8.1.4.1 a)", "身份鉴别：令牌签发者",
            "访问令牌只由租户的统一身份认证（Keycloak 领域）签发；开发用签发者只允许在开发环境中使用。",
            ("issuer.development",)),
    Control("DJ-AC-1", DJ, "8.1.4.2 b) c)", "访问控制：无默认、共享或多余账户",
            "不存在默认账户、共享账户；每个账户对应一个具体的人。", ("realm.personal_accounts",)),
    Control("DJ-AC-2", DJ, "8.1.4.2 d)", "访问控制：三员分立与最小权限",
            "系统管理员、安全管理员、审计管理员由不同的人担任，各自只有所需权限。",
            ("realm.separation_of_duties",)),
    Control("DJ-AC-3", DJ, "8.1.4.2 d)", "访问控制：数据库账户最小权限",
            "应用使用的数据库账户不是超级用户，不能建库建角色，只能访问本租户的数据库。", ("database.least_privilege",)),
    Control("DJ-AU-1", DJ, "8.1.4.3 a) b)", "安全审计：覆盖每个用户与关键操作",
            "审计覆盖每个用户的每次写操作和被拒绝的请求，记录时间、用户、事件、对象和结果；统一身份认证记录登录和管理事件。",
            ("audit.chain", "realm.event_retention")),
    Control("DJ-AU-2", DJ, "8.1.4.3 c)", "安全审计：审计记录防篡改",
            "审计记录以 SM3 哈希链相连并以 HMAC-SM3 封印，链头检查点保存在数据库之外，任何修改、删除或截断都能被发现。",
            ("audit.chain", "audit.anchor")),
    Control("DJ-IP-1", DJ, "8.1.4.4 d)", "入侵防范：输入与请求限制",
            "对请求体大小和公开查询的猜测次数加以限制，超过即拒绝并记入审计。", ("service.rate_limits",)),
    Control("DJ-IP-2", DJ, "8.1.4.4 a) b)", "入侵防范：最小安装与最小暴露",
            "容器以非 root、只读根文件系统、无特权运行，不暴露 NodePort 和宿主机资源。", ("k8s.policy_pack",)),
    Control("DJ-IP-3", DJ, "8.1.4.4", "入侵防范：Web 安全响应头",
            "所提供的接口返回防 MIME 嗅探、防点击劫持和引用来源策略的响应头。", ("service.security_headers",),
            mandatory=False),
    Control("DJ-MC-1", DJ, "8.1.4.5", "恶意代码防范：上传附件查杀",
            "审批附件在保存前经病毒查杀。", ("service.virus_scan",)),
    Control("DJ-TV-1", DJ, "8.1.4.6", "可信验证：镜像按摘要固定",
            "运行的镜像以 sha256 摘要固定，不能被同名镜像替换。", ("k8s.images_pinned",),
            assessor="查看集群准入策略是否校验镜像签名（可信验证的启动度量由宿主平台提供）。"),
    Control("DJ-DI-1", DJ, "8.1.4.7 b)", "数据完整性：存储中的重要数据",
            "个人信息以带认证的 SM4-GCM 加密保存，审计记录以 HMAC-SM3 封印，篡改可被发现。",
            ("data.encrypted_at_rest", "audit.chain")),
    Control("DJ-DC-1", DJ, "8.1.4.8 a)", "数据保密性：传输中的重要数据", "对外服务只经 TLS 提供。",
            ("service.tls", "k8s.ingress_tls")),
    Control("DJ-DC-2", DJ, "8.1.4.8 b)", "数据保密性：存储中的个人信息",
            "身份证号、电话、姓名等个人信息在数据库中只以密文保存（抽样核验，不作假定），密钥保存在数据库之外且权限受限。",
            ("data.encrypted_at_rest", "keys.protected")),
    Control("DJ-BR-1", DJ, "8.1.4.9 a)", "数据备份恢复：本地备份与恢复演练",
            "每日加密备份，并定期把最新备份恢复到临时库中核验。", ("backup.recency", "backup.drill")),
    Control("DJ-BR-2", DJ, "8.1.4.9 b)", "数据备份恢复：异地备份", "备份定时复制到异地备份场所。", (),
            assessor="查看备份目录到异地备份场所的复制任务及其最近一次成功记录。"),
    Control("DJ-BR-3", DJ, "8.1.4.9 c)", "数据备份恢复：热冗余", "重要数据处理系统热冗余，保证高可用。", (),
            assessor="查看数据库的主备复制与故障切换配置，以及注册服务的多副本部署。"),
    Control("DJ-RI-1", DJ, "8.1.4.10 a) b)", "剩余信息保护", "鉴别信息和敏感数据所在的存储空间被释放或重新分配前完全清除。",
            (), assessor="查看退出登录时会话令牌被删除（staff_sessions）、恢复演练的临时库被删除，以及存储介质回收的管理制度。"),
    Control("DJ-PI-1", DJ, "8.1.4.11 a) b)", "个人信息保护：最小采集与授权访问",
            "只采集业务必需的个人信息；只有被授权的角色能看到完整的身份证号，每次查看都记入审计。",
            ("access.personal_data_roles", "data.encrypted_at_rest")),
    # --- 8.1.2 / 8.1.3 安全通信网络与安全区域边界（Kubernetes 命名空间能满足的部分） ----------------------------------
    Control("DJ-CN-1", DJ, "8.1.2.2 a) b)", "安全通信网络：通信传输", "通信传输以 TLS 保证完整性和保密性。",
            ("k8s.ingress_tls",)),
    Control("DJ-BD-1", DJ, "8.1.3.1 a) 8.1.3.2 a)", "安全区域边界：边界防护与访问控制",
            "每个租户命名空间默认拒绝一切进出流量，只按白名单放行所需端口和对端。", ("k8s.policy_pack",)),
    # --- 8.1.5 安全管理中心（监控覆盖的部分） ---------------------------------------------------------------------
    Control("DJ-MC-2", DJ, "8.1.5.4 c)", "安全管理中心：集中监测",
            "每个租户的运行状态、审计链完整性和备份状态被集中采集和告警。", ("monitoring.scrape_target",)),
    Control("DJ-MC-3", DJ, "8.1.5.4 d)", "安全管理中心：审计数据集中保存不少于六个月",
            "审计记录保存不少于 180 天（网络安全法要求的六个月）。", ("audit.retention", "realm.event_retention")),
    # --- GB/T 39786-2021 第三级：应用和数据安全 -------------------------------------------------------------------
    Control("MP-AD-1", MP, "8.4 a)", "密评：身份鉴别使用密码技术",
            "登录用户的身份由签名令牌证明（领域签名密钥），管理员另加 TOTP。", ("issuer.development", "realm.admin_otp"),
            assessor="核对统一身份认证使用的密码产品是否经过检测认证。"),
    Control("MP-AD-2", MP, "8.4 d) f)", "密评：重要数据传输的机密性与完整性", "对外接口只经 TLS 提供。",
            ("service.tls", "k8s.ingress_tls")),
    Control("MP-AD-3", MP, "8.4 e)", "密评：重要数据存储的机密性", "个人信息以 SM4-GCM 加密保存，密钥在数据库之外。",
            ("data.encrypted_at_rest", "keys.protected")),
    Control("MP-AD-4", MP, "8.4 g)", "密评：重要数据存储的完整性",
            "审计记录以 SM3 链接并以 HMAC-SM3 封印；个人信息密文带 GCM 认证标签。", ("audit.chain", "data.encrypted_at_rest")),
    Control("MP-AD-5", MP, "8.4 h)", "密评：不可否认性", "火化证明的二维码以租户的 SM2 私钥签名，可被公开验证。",
            ("keys.protected",), assessor="核对签名所用的 SM2 实现是否为经检测认证的密码模块。"),
)


def control(control_id: str) -> Control:
    return next(c for c in CONTROLS if c.id == control_id)
