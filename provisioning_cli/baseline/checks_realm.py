"""Checks of the tenant's Keycloak realm, read through the admin API as it is (not as the catalog declares it)."""
import re
from collections.abc import Callable

from infra.ensure import ProvisioningError
from infra.ensure.realm import CONFIGURE_TOTP, keycloak_errors
from infra.ensure.realm_users import SHARED_ACCOUNT_NAMES, list_users
from provisioning_cli.baseline.findings import Finding, Status
from provisioning_cli.baseline.subject import Subject
from registry.security.permissions import ADMINISTRATIVE_ROLES, SEPARATED_ADMIN_ROLES

MIN_PASSWORD_LENGTH, MAX_PASSWORD_AGE_DAYS = 8, 90
MAX_FAILURES, MIN_LOCK_SECONDS, MAX_IDLE_SECONDS = 5, 15 * 60, 15 * 60
MIN_EVENT_DAYS = 180
CLASSES = ("upperCase", "lowerCase", "digits", "specialChars")

RealmCheck = Callable[[Subject, object, str], Finding]


def realm_check(name: str) -> Callable[[RealmCheck], Callable[[Subject], Finding]]:
    """A check of the realm: not applicable where a development tenant has none; failed where one is needed but
    absent or unreachable; else the check proper, given the admin client and where it read."""
    def wrap(check: RealmCheck) -> Callable[[Subject], Finding]:
        def run(subject: Subject) -> Finding:
            if subject.spec.sso.provider != "keycloak":
                status = Status.not_applicable if subject.development else Status.failed
                return Finding(name, status, "无 Keycloak 领域：令牌由开发用签发者签发（仅开发环境）",
                               f"租户目录 {subject.spec.slug}: sso.provider={subject.spec.sso.provider}",
                               "仅实际部署能满足：在租户目录中配置 sso.provider=keycloak 与 sso.keycloak_url，并运行 fsp up")
            where = f"Keycloak 管理 API {subject.spec.sso.keycloak_url}，领域 {subject.spec.realm_name}"
            try:
                with keycloak_errors(str(subject.spec.sso.keycloak_url)):
                    return check(subject, subject.realm, where)
            except ProvisioningError as err:
                return Finding(name, Status.failed, f"无法读取领域：{err}", where,
                               "提供 Keycloak 管理员凭据（FSP_KEYCLOAK_ADMIN_USER / FSP_KEYCLOAK_ADMIN_PASSWORD）后重试")
        run.__name__ = check.__name__
        return run
    return wrap


def _setting(admin, name: str):
    return admin.get_realm(admin.connection.realm_name).get(name)


def _policy_value(policy: str, name: str) -> int | None:
    match = re.search(rf"\b{name}\((\d+)\)", policy)
    return int(match.group(1)) if match else (1 if re.search(rf"\b{name}\b", policy) else None)


@realm_check("realm.password_policy")
def password_policy(subject: Subject, admin, where: str) -> Finding:
    policy = _setting(admin, "passwordPolicy") or ""
    length, age = _policy_value(policy, "length"), _policy_value(policy, "forceExpiredPasswordChange")
    missing = [c for c in CLASSES if _policy_value(policy, c) is None]
    problems = ([f"长度 {length or '未设置'} < {MIN_PASSWORD_LENGTH}"] if (length or 0) < MIN_PASSWORD_LENGTH else []) \
        + ([f"缺少字符类别 {', '.join(missing)}"] if missing else []) \
        + ([f"强制更换周期 {age or '未设置'} 天 > {MAX_PASSWORD_AGE_DAYS}"] if not age or age > MAX_PASSWORD_AGE_DAYS else []) \
        + (["未禁止使用用户名作口令"] if "notUsername" not in policy else [])
    return Finding("realm.password_policy", Status.failed if problems else Status.passed,
                   f"passwordPolicy = {policy or '（空）'}" + (f"；{'；'.join(problems)}" if problems else ""),
                   where, "fsp sso apply 恢复领域的口令策略" if problems else "")


@realm_check("realm.lockout")
def lockout(subject: Subject, admin, where: str) -> Finding:
    realm = admin.get_realm(admin.connection.realm_name)
    protected, failures, wait = realm.get("bruteForceProtected"), realm.get("failureFactor"), realm.get("waitIncrementSeconds")
    ok = bool(protected) and (failures or 99) <= MAX_FAILURES and (wait or 0) >= MIN_LOCK_SECONDS
    return Finding("realm.lockout", Status.passed if ok else Status.failed,
                   f"bruteForceProtected={protected}, failureFactor={failures}, waitIncrementSeconds={wait}", where,
                   "" if ok else f"连续失败不超过 {MAX_FAILURES} 次即锁定至少 15 分钟：fsp sso apply")


@realm_check("realm.idle_timeout")
def idle_timeout(subject: Subject, admin, where: str) -> Finding:
    idle = _setting(admin, "ssoSessionIdleTimeout")
    ok = idle is not None and 0 < idle <= MAX_IDLE_SECONDS
    return Finding("realm.idle_timeout", Status.passed if ok else Status.failed, f"ssoSessionIdleTimeout={idle} 秒",
                   where, "" if ok else "会话闲置不超过 15 分钟：fsp sso apply")


@realm_check("realm.admin_otp")
def admin_otp(subject: Subject, admin, where: str) -> Finding:
    action = next((a for a in admin.get_required_actions() if a.get("alias") == CONFIGURE_TOTP), {})
    without = []
    for user in list_users(admin):
        if not user.enabled or not set(user.roles) & ADMINISTRATIVE_ROLES or CONFIGURE_TOTP in user.required_actions:
            continue
        credentials = {c.get("type") for c in admin.get_credentials(user.id)}
        if "otp" not in credentials:
            without.append(user.username)
    ok = bool(action.get("enabled")) and not without
    evidence = f"必需动作 {CONFIGURE_TOTP} enabled={action.get('enabled')}；" + \
        (f"未登记 TOTP 的管理员：{', '.join(without)}" if without else "每个管理员已登记 TOTP 或登录时必须登记")
    return Finding("realm.admin_otp", Status.passed if ok else Status.failed, evidence, where,
                   "" if ok else "为这些管理员设置 CONFIGURE_TOTP 必需动作（fsp users roles 会自动设置）")


@realm_check("realm.personal_accounts")
def personal_accounts(subject: Subject, admin, where: str) -> Finding:
    users = list_users(admin)
    shared = [u.username for u in users if u.enabled and u.username in SHARED_ACCOUNT_NAMES]
    return Finding("realm.personal_accounts", Status.failed if shared else Status.passed,
                   f"{len(users)} 个账户" + (f"；不对应具体人员的账户：{', '.join(shared)}" if shared else "；均为个人账户"),
                   where, f"停用这些账户：fsp users disable NAME --tenant {subject.spec.slug}" if shared else "")


@realm_check("realm.separation_of_duties")
def separation_of_duties(subject: Subject, admin, where: str) -> Finding:
    users = [u for u in list_users(admin) if u.enabled]
    holders = {role: sorted(u.username for u in users if role in u.roles) for role in sorted(SEPARATED_ADMIN_ROLES)}
    doubled = sorted(u.username for u in users if len(set(u.roles) & SEPARATED_ADMIN_ROLES) > 1)
    vacant = [role for role, names in holders.items() if not names]
    evidence = "；".join(f"{role}: {', '.join(names) or '无人'}" for role, names in holders.items())
    if doubled:
        return Finding("realm.separation_of_duties", Status.failed, f"{evidence}；一人兼任多个三员角色：{', '.join(doubled)}",
                       where, "撤销兼任的角色：fsp users roles NAME --revoke ROLE")
    if vacant:
        return Finding("realm.separation_of_duties", Status.failed, f"{evidence}；无人担任：{', '.join(vacant)}", where,
                       "为每个三员角色指定一名不同的人：fsp users add NAME --role ROLE")
    return Finding("realm.separation_of_duties", Status.passed, evidence, where)


@realm_check("realm.event_retention")
def event_retention(subject: Subject, admin, where: str) -> Finding:
    realm = admin.get_realm(admin.connection.realm_name)
    days = (realm.get("eventsExpiration") or 0) / 86400
    ok = bool(realm.get("eventsEnabled")) and bool(realm.get("adminEventsEnabled")) and days >= MIN_EVENT_DAYS
    return Finding("realm.event_retention", Status.passed if ok else Status.failed,
                   f"eventsEnabled={realm.get('eventsEnabled')}, adminEventsEnabled={realm.get('adminEventsEnabled')}, "
                   f"eventsExpiration={days:.0f} 天", where, "" if ok else "登录与管理事件保存不少于 180 天：fsp sso apply")


CHECKS = {"realm.password_policy": password_policy, "realm.lockout": lockout, "realm.idle_timeout": idle_timeout,
          "realm.admin_otp": admin_otp, "realm.personal_accounts": personal_accounts,
          "realm.separation_of_duties": separation_of_duties, "realm.event_retention": event_retention}
