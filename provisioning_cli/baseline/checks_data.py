"""Checks of what the tenant keeps: database privileges, personal data at rest (sampled), keys, the audit chain
and its anchor, retention, backups and the last restore drill."""
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from sqlmodel import Session

from provisioning_cli.baseline.findings import Finding, Status
from provisioning_cli.baseline.subject import Subject
from registry.audit import service as audit
from registry.audit.anchor import AuditAnchor
from registry.metrics import last_drill, newest_backup_time
from registry.security import crypto
from registry.security.key_ledger import ENCRYPTED_COLUMNS
from registry.security.keys import AUDIT_KEY, CERTIFICATE_KEY, FIELD_KEY, INDEX_KEY
from registry.security.permissions import ROLE_PERMISSIONS, Permission, Role

# every column holding personal data, encrypted with the field key: (table, column, SM4-GCM context or None where
# the context is the row's own id); the key ledger's columns first
PERSONAL_DATA_COLUMNS = (*ENCRYPTED_COLUMNS,
                         ("complaints", "text_encrypted", "complaint.text"),
                         ("complaints", "contact_encrypted", "complaint.contact"),
                         ("complaints", "answer_encrypted", "complaint.answer"),
                         ("memorials", "consented_by_encrypted", "memorial.consented_by"),
                         ("bookings", "for_name_enc", "booking.for_name"),
                         ("bookings", "for_phone_enc", "booking.for_phone"),
                         ("remote_farewells", "join_link_enc", "farewell.join_link"),
                         ("farewell_invitations", "name_enc", "farewell.invitee_name"),
                         ("farewell_invitations", "phone_enc", "farewell.invitee_phone"),
                         ("approvals", "details_cipher", None))
SAMPLE = 50
# the same limits as the fleet alerts FspBackupStale and FspBackupDrillStale
BACKUP_MAX_AGE, DRILL_MAX_AGE = timedelta(hours=26), timedelta(days=8)
MIN_AUDIT_RETENTION_DAYS = 180
# the roles that may read a whole ID number (always audited): reviewers only
PERSONAL_DATA_READERS = frozenset({Role.reviewer})


def least_privilege(subject: Subject) -> Finding:
    settings = subject.settings
    if settings.is_sqlite:
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        mode = stat.S_IMODE(path.stat().st_mode)
        ok = not mode & 0o077
        return Finding("database.least_privilege", Status.passed if ok else Status.failed,
                       f"SQLite 文件权限 {mode:o}（无数据库账户：只有服务的系统用户能读写）", str(path),
                       "" if ok else f"chmod 600 {path}")
    with subject.local.engine(subject.spec) as engine, engine.connect() as connection:
        role = connection.execute(text("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                                       "WHERE rolname = current_user")).one()
        public = connection.execute(text("SELECT has_database_privilege('public', current_database(), 'CONNECT')")).scalar()
        others = connection.execute(text(
            "SELECT count(*) FROM pg_database WHERE datallowconn AND datname <> current_database() "
            "AND datname NOT IN ('postgres', 'template1') AND has_database_privilege(current_user, datname, 'CONNECT') "
            "AND NOT has_database_privilege('public', datname, 'CONNECT')")).scalar()
    problems = [name for name, held in (("SUPERUSER", role.rolsuper), ("CREATEROLE", role.rolcreaterole),
                                         ("CREATEDB", role.rolcreatedb), ("BYPASSRLS", role.rolbypassrls)) if held]
    problems += ["PUBLIC 可连接本库"] if public else []
    problems += [f"可连接其他 {others} 个受保护的库"] if others else []
    return Finding("database.least_privilege", Status.failed if problems else Status.passed,
                   f"账户 {role.rolname}：" + ("；".join(problems) if problems else
                                            "非超级用户，不能建库建角色，PUBLIC 不能连接本库"),
                   "PostgreSQL pg_roles / has_database_privilege（以租户账户连接）",
                   "ALTER ROLE ... NOSUPERUSER NOCREATEDB NOCREATEROLE；REVOKE ALL ON DATABASE ... FROM PUBLIC" if problems else "")


def encrypted_at_rest(subject: Subject) -> Finding:
    """Sampled from the database: every stored value is an SM4-GCM ciphertext that the tenant's field key opens."""
    key = (subject.settings.keys_dir / FIELD_KEY).read_bytes()
    sampled, clear = 0, []
    with subject.local.engine(subject.spec) as engine, engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        for table, column, context in PERSONAL_DATA_COLUMNS:
            if table not in tables:
                continue
            rows = connection.execute(text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
                                           f"AND \"{column}\" <> '' LIMIT {SAMPLE}")).scalars()
            for value in rows:
                sampled += 1
                if not _sealed(key, value, context):
                    clear.append(f"{table}.{column}")
    where = f"数据库 {len(PERSONAL_DATA_COLUMNS)} 个个人信息列，每列抽样至多 {SAMPLE} 个值"
    if clear:
        named = sorted(set(clear))
        return Finding("data.encrypted_at_rest", Status.failed,
                       f"{len(clear)}/{sampled} 个抽样值不是本租户密钥的 SM4-GCM 密文：{', '.join(named)}", where,
                       "查明写入明文的途径并重新加密这些值；明文可能已进入备份")
    if not sampled:
        return Finding("data.encrypted_at_rest", Status.not_applicable, "尚未保存任何个人信息，无可抽样的值", where)
    return Finding("data.encrypted_at_rest", Status.passed, f"{sampled} 个抽样值均为 SM4-GCM 密文（以租户字段密钥核验）", where)


def _sealed(key: bytes, value: object, context: str | None) -> bool:
    if not isinstance(value, str) or not value.startswith("sm4gcm1:"):
        return False
    if context is None:  # its context is the row's id: the form is what can be judged from the column alone
        return True
    try:
        crypto.sm4_gcm_decrypt(key, value, context=context.encode())
    except (crypto.DecryptionError, ValueError):
        return False
    return True


def keys_protected(subject: Subject) -> Finding:
    keys = subject.settings.keys_dir
    needed = (FIELD_KEY, INDEX_KEY, AUDIT_KEY, CERTIFICATE_KEY)
    missing = [name for name in needed if not (keys / name).is_file()]
    loose = [f"{p.name} {stat.S_IMODE(p.stat().st_mode):o}" for p in sorted(keys.iterdir())
             if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077 and not p.name.endswith((".pub", ".pub.pem", ".id"))]
    dir_mode = stat.S_IMODE(keys.stat().st_mode)
    problems = ([f"缺少 {', '.join(missing)}"] if missing else []) + ([f"权限过宽：{', '.join(loose)}"] if loose else []) \
        + ([f"目录权限 {dir_mode:o}"] if dir_mode & 0o077 else [])
    return Finding("keys.protected", Status.failed if problems else Status.passed,
                   "；".join(problems) if problems else f"{len(needed)} 个密钥在数据库之外，目录 {dir_mode:o}，文件仅属主可读",
                   str(keys), "从密钥备份恢复，并 chmod 700 目录、600 文件" if problems else "")


def _verdict(subject: Subject):
    if "verdict" not in subject.memo:
        settings = subject.settings
        anchor = AuditAnchor(settings.keys_dir, settings.audit_checkpoint_path)
        with subject.local.engine(subject.spec) as engine, Session(engine) as session:
            subject.memo["verdict"] = audit.verify(session, anchor=anchor)
    return subject.memo["verdict"]


def audit_chain(subject: Subject) -> Finding:
    verdict = _verdict(subject)
    where = "数据库 audit_entries（SM3 链接 + HMAC-SM3 封印，自创世条目起全量核验）"
    if verdict.ok:
        return Finding("audit.chain", Status.passed, f"完整：核验 {verdict.checked} 条，链头为第 {verdict.through_seq} 条", where)
    return Finding("audit.chain", Status.failed,
                   f"第 {verdict.first_broken_seq or '?'} 条起被破坏：{verdict.reason}", where,
                   "保全现场，按应急预案调查；从最近一次完好的备份核对被改动的条目")


def audit_anchor(subject: Subject) -> Finding:
    verdict, path = _verdict(subject), subject.settings.audit_checkpoint_path
    anchored = path.is_file() and (subject.settings.keys_dir / AUDIT_KEY).is_file()
    anchor_problem = verdict.reason if verdict.reason and verdict.reason.startswith("audit anchor") else None
    ok = anchored and anchor_problem is None
    return Finding("audit.anchor", Status.passed if ok else Status.failed,
                   "链头检查点与审计密钥均在数据库之外，且与链一致" if ok else (anchor_problem or "检查点文件或审计密钥缺失"),
                   f"{path}；{subject.settings.keys_dir / AUDIT_KEY}", "" if ok else "恢复检查点文件与审计密钥")


def audit_retention(subject: Subject) -> Finding:
    days = subject.spec.audit_retention_days
    with subject.local.engine(subject.spec) as engine, engine.connect() as connection:
        first = connection.execute(text("SELECT min(seq), min(at) FROM audit_entries")).one()
    kept = "无条目" if first[0] is None else f"最早条目第 {first[0]} 条（{str(first[1])[:19]}）"
    ok = days >= MIN_AUDIT_RETENTION_DAYS and first[0] in (None, 1)
    return Finding("audit.retention", Status.passed if ok else Status.failed,
                   f"目录规定保存 {days} 天；注册服务从不删除审计条目；{kept}",
                   "租户目录 audit_retention_days；数据库 audit_entries",
                   "" if ok else "保存期不少于 180 天，且链首条目不得被删除")


def backup_recency(subject: Subject) -> Finding:
    directory = subject.settings.backup_dir
    newest = newest_backup_time(directory) if directory else None
    if newest is None:
        return Finding("backup.recency", Status.failed, "没有完整的备份", str(directory),
                       f"fsp backup {subject.spec.slug}，并按日定时执行")
    age = datetime.now(UTC) - newest
    ok = age <= BACKUP_MAX_AGE
    return Finding("backup.recency", Status.passed if ok else Status.failed,
                   f"最新备份于 {newest.isoformat(timespec='seconds')}（{age.total_seconds() / 3600:.1f} 小时前）",
                   str(directory), "" if ok else "每日备份未按时完成：检查定时任务")


def backup_drill(subject: Subject) -> Finding:
    directory = subject.settings.backup_dir
    drill = last_drill(directory) if directory else None
    if drill is None:
        return Finding("backup.drill", Status.failed, "从未进行恢复演练", str(directory),
                       f"fsp backup drill {subject.spec.slug}，并每周执行")
    age = datetime.now(UTC) - drill["at"]
    ok = drill["outcome"] == "ok" and age <= DRILL_MAX_AGE
    return Finding("backup.drill", Status.passed if ok else Status.failed,
                   f"最近一次演练 {drill['at'].isoformat(timespec='seconds')}，结果 {drill['outcome']}"
                   + (f"：{drill.get('problem')}" if drill.get("problem") else ""), str(directory / "drill.json"),
                   "" if ok else f"fsp backup drill {subject.spec.slug}（每周一次，且须成功）")


def personal_data_roles(subject: Subject) -> Finding:
    readers = {role for role, granted in ROLE_PERMISSIONS.items() if Permission.personal_data_read in granted}
    ok = readers <= PERSONAL_DATA_READERS
    return Finding("access.personal_data_roles", Status.passed if ok else Status.failed,
                   f"可查看完整身份证号的角色：{', '.join(sorted(r.value for r in readers))}（每次查看记入审计）",
                   "registry.security.permissions.ROLE_PERMISSIONS（随版本发布的授权表）",
                   "" if ok else "收回多余角色的 personal-data:read 权限")


CHECKS = {"database.least_privilege": least_privilege, "data.encrypted_at_rest": encrypted_at_rest,
          "keys.protected": keys_protected, "audit.chain": audit_chain, "audit.anchor": audit_anchor,
          "audit.retention": audit_retention, "backup.recency": backup_recency, "backup.drill": backup_drill,
          "access.personal_data_roles": personal_data_roles}
