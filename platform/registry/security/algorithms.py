"""Which algorithm protects what (密评 baseline): one table, read by people (README, the assessors' report in Chinese)
and by `fsp baseline check`.

Each row: what is protected, the algorithm and its standard, the key (file in the tenant's keys directory, or where
it lives), how it is rotated, and the code that does it. `accepted` lists algorithms still verified during a switch.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Protection:
    protects: str
    algorithm: str
    standard: str
    key: str
    rotation: str
    where: str
    accepted: tuple[str, ...] = ()


PROTECTIONS: tuple[Protection, ...] = (
    Protection("个人信息（身份证号、电话、姓名、预约、投诉、申请、会话、附件）的存储机密性与完整性", "SM4-GCM", "GB/T 32907",
               "field-sm4.key, field-sm4.v<N>.key (a key ring)",
               "fsp keys rotate --field; fsp keys reencrypt; fsp keys retire --field N", "registry.security.field_keys"),
    Protection("身份证号的盲索引（查重与检索，不可逆）", "HMAC-SM3", "GB/T 32905, GB/T 15852.2",
               "index-hmac-sm3.key", "not rotated with the field key (every index would change)",
               "registry.context.TenantContext.blind_index"),
    Protection("跨省人员匹配的盲索引（person_ref）", "HMAC-SM3", "GB/T 32905",
               "person-match-hmac-sm3.key (shared by the provinces, never held by the ministry)", "not rotated",
               "registry.context.TenantContext.person_ref"),
    Protection("审计记录的链接", "SM3", "GB/T 32905", "none (a hash chain)", "-", "registry.audit.service"),
    Protection("审计记录与链头检查点的封印", "HMAC-SM3", "GB/T 32905", "audit-hmac-sm3.key",
               "not rotated (every sealed entry would fail)", "registry.audit.anchor"),
    Protection("审计链头检查点的签名（凭公钥即可核验）", "SM2 with SM3", "GB/T 32918",
               "certificate-sm2.key/.pub (published)", "not rotated", "registry.audit.anchor",
               accepted=("unsigned files from before signing, by their HMAC-SM3 seals",)),
    Protection("省级平台向部级平台报送的批次与向部门推送的通知的签名", "SM2 with SM3",
               "GB/T 32918", "exchange-signing.v<N>.key/.pub (exchange-ed25519.pem before the switch)",
               "fsp keys rotate --signing (old and new registered), fsp keys retire --signing",
               "registry.exchange.signing", accepted=("Ed25519",)),
    Protection("火化证明与遗体运输许可二维码的签名（FSPC1、FSPP1）", "SM2 with SM3", "GB/T 32918",
               "certificate-sm2.key/.pub (published at /.well-known/fsp-certificate-key)",
               "not rotated (printed QR codes must keep verifying)", "registry.signed_documents"),
    Protection("备份（数据库与密钥）的机密性与完整性", "SM4-GCM, SM3 digests", "GB/T 32907, GB/T 32905",
               "the backup key, kept apart from the tenant", "a new backup key seals the next backups",
               "provisioning_cli.backup_archive"),
    Protection("工作人员与群众的访问令牌签名", "RS256", "RFC 7518 (the realm's choice; not a national algorithm)",
               "the Keycloak realm's keys, or dev-issuer-rsa.pem locally",
               "Keycloak key rotation (JWKS, both kids); locally fsp keys rotate --token",
               "registry.security.auth"),
    Protection("浏览器、各省、部级平台与部门之间的传输", "TLS (TLCP/国密 TLS where the "
               "gateway supports it)", "GB/T 38636", "the deployment's gateway certificates",
               "the deployment's certificate management", "deployment (ingress), not this code"),
)


def protections() -> list[dict[str, object]]:
    """The table as plain data (JSON, a baseline check)."""
    return [{"protects": p.protects, "algorithm": p.algorithm, "standard": p.standard, "key": p.key,
             "rotation": p.rotation, "where": p.where, "accepted": list(p.accepted)} for p in PROTECTIONS]
