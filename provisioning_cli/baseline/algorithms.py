"""Which algorithm protects what: one table, shown in the assessors' report (密评 evidence).

Kept here alone so that a change of algorithm (a key rotation, SM2 for another use) is one row to edit."""
from registry.security.keys import AUDIT_KEY, CERTIFICATE_KEY, FIELD_KEY, INDEX_KEY, PERSON_MATCH_KEY, TOKEN_KEY


def algorithm_table() -> list[dict[str, str]]:
    """[{"protects", "algorithm", "standard", "key"}]: each use of cryptography in the registry."""
    return [
        {"protects": "个人信息（身份证号、电话、姓名、会话令牌等）的存储机密性与完整性", "algorithm": "SM4-GCM",
         "standard": "GB/T 32907-2016", "key": FIELD_KEY},
        {"protects": "身份证号的盲索引（查重与检索，不可逆）", "algorithm": "HMAC-SM3", "standard": "GB/T 32905-2016",
         "key": INDEX_KEY},
        {"protects": "审计记录的链接", "algorithm": "SM3", "standard": "GB/T 32905-2016", "key": "（无密钥）"},
        {"protects": "审计记录与链头检查点的封印", "algorithm": "HMAC-SM3", "standard": "GB/T 32905-2016",
         "key": AUDIT_KEY},
        {"protects": "火化证明二维码的签名（不可否认）", "algorithm": "SM2 签名（SM3 摘要）", "standard": "GB/T 32918-2016",
         "key": CERTIFICATE_KEY},
        {"protects": "跨省人员匹配的盲索引", "algorithm": "HMAC-SM3", "standard": "GB/T 32905-2016",
         "key": PERSON_MATCH_KEY},
        {"protects": "备份文件的机密性与完整性", "algorithm": "SM4-GCM", "standard": "GB/T 32907-2016",
         "key": "备份密钥（与备份分开保管）"},
        {"protects": "省级平台向部级平台报送的批次签名", "algorithm": "Ed25519", "standard": "RFC 8032（非国密，待替换）",
         "key": "exchange-ed25519.pem"},
        {"protects": "开发环境的访问令牌签名（仅开发环境）", "algorithm": "RSA-2048 (RS256)", "standard": "RFC 7518",
         "key": TOKEN_KEY},
        {"protects": "传输（入口 TLS）", "algorithm": "TLS 1.2/1.3（入口控制器与证书签发者配置）", "standard": "—",
         "key": "registry-tls（cert-manager 签发）"},
    ]
