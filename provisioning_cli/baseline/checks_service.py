"""Checks of how the tenant is served: its token issuer, security headers, request limits, attachment scanning,
TLS, monitoring, and the Kubernetes stack its deployment declares (judged by the policy pack)."""
from collections.abc import Callable

import anyio
import httpx

from infra.cluster import UNSET_IMAGE
from provisioning_cli.baseline.findings import Finding, Status
from provisioning_cli.baseline.subject import Subject
from provisioning_cli.targets import TargetError
from registry.limits import AttemptLimiter, BodySizeLimit

# what every response of the registry carries (nosniff, no framing by other sites, no full referrer sent on)
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": None}
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
IMAGES_POLICY = "images-by-digest"
DEPLOYMENT_ONLY = "仅实际部署能满足"


def development_issuer(subject: Subject) -> Finding:
    data = subject.written_settings
    issuer = data.get("token_issuer") or f"fsp-dev:{subject.spec.slug}"
    where = f"{subject.paths.settings}（environment, token_issuer）"
    if not issuer.startswith("fsp-dev:"):
        return Finding("issuer.development", Status.passed, f"令牌签发者 {issuer}（租户的 Keycloak 领域）", where)
    if subject.development:
        return Finding("issuer.development", Status.not_applicable,
                       f"environment=development，签发者 {issuer}：开发用签发者只在开发环境中被接受", where,
                       f"{DEPLOYMENT_ONLY}：部署时以 sso.provider=keycloak 配置领域")
    return Finding("issuer.development", Status.failed,
                   f"environment={subject.environment}，令牌却由开发用签发者 {issuer} 签发：任何持有开发密钥者都能冒充任何人",
                   where, "在租户目录中配置 Keycloak 领域（sso.provider=keycloak）并运行 fsp up；或改回 environment=development")


def security_headers(subject: Subject) -> Finding:
    response = anyio.run(_healthz, subject.app)
    seen = {name: response.headers.get(name) for name in SECURITY_HEADERS}
    wrong = [name for name, wanted in SECURITY_HEADERS.items()
             if seen[name] is None or (wanted is not None and seen[name].upper() != wanted.upper())]
    return Finding("service.security_headers", Status.failed if wrong else Status.passed,
                   "；".join(f"{name}: {value or '（无）'}" for name, value in seen.items()),
                   "注册服务 GET /healthz 的响应头（以租户设置在进程内构建的应用）",
                   f"补上响应头 {', '.join(wrong)}" if wrong else "")


async def _healthz(app) -> httpx.Response:
    """GET /healthz of the app in this process (httpx's ASGI transport: no server, no test client in the CLI)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tenant") as client:
        return await client.get("/healthz")


def rate_limits(subject: Subject) -> Finding:
    app = subject.app
    body = next((m.kwargs for m in app.user_middleware if m.cls is BodySizeLimit), None)
    limiters = {name: value for name, value in vars(app.state.ctx).items() if isinstance(value, AttemptLimiter)}
    evidence = [f"请求体上限 {body['max_bytes']} 字节" if body else "无请求体上限"]
    evidence += [f"{name}: {lim.max_failures} 次/{lim.window:.0f} 秒" for name, lim in sorted(limiters.items())]
    ok = body is not None and bool(limiters)
    return Finding("service.rate_limits", Status.passed if ok else Status.failed, "；".join(evidence),
                   "注册服务的中间件与公开查询的猜测次数限制（以租户设置构建的应用）",
                   "" if ok else "恢复 BodySizeLimit 中间件与公开查询的 AttemptLimiter")


def virus_scan(subject: Subject) -> Finding:
    command = subject.settings.virus_scan_command
    where = f"{subject.paths.settings}（virus_scan_command）"
    if command:
        return Finding("service.virus_scan", Status.passed, f"附件保存前执行 {command.split()[0]}", where)
    status = Status.not_applicable if subject.development else Status.failed
    return Finding("service.virus_scan", status, "未配置病毒查杀命令", where,
                   f"{DEPLOYMENT_ONLY}：部署时配置 virus_scan_command（如 clamdscan --no-summary）")


def served_tls(subject: Subject) -> Finding:
    where = f"fsp serve 于 {subject.local.base_url()}"
    if subject.local.base_url().startswith("https://"):
        return Finding("service.tls", Status.passed, "以 HTTPS 提供", where)
    status = Status.not_applicable if subject.development else Status.failed
    return Finding("service.tls", status, "本地目标在回环地址上以 HTTP 提供（不出本机）", where,
                   f"{DEPLOYMENT_ONLY}：TLS 在入口终止，见 k8s.ingress_tls")


def scrape_target(subject: Subject) -> Finding:
    path = subject.local.home.scrape_targets / f"{subject.spec.slug}.json"
    ok = path.is_file()
    return Finding("monitoring.scrape_target", Status.passed if ok else Status.failed,
                   "Prometheus 采集该租户的 /metrics（审计链、备份、演练、基线状态），并联邦到部级平台" if ok else "未登记采集目标",
                   str(path), "" if ok else f"fsp up {subject.spec.slug}")


def _planned(subject: Subject, check: Callable[[dict], Finding], name: str) -> Finding:
    try:
        return check(subject.plan)
    except TargetError as err:
        return Finding(name, Status.failed, f"无法生成 Kubernetes 栈的计划：{err}", "fsp plan", "修正集群设置（FSP_K8S_*）")


def policy_pack(subject: Subject) -> Finding:
    def judge(plan: dict) -> Finding:
        found = [v for v in plan["violations"] if v["policy"] != IMAGES_POLICY]
        resources = sum(r["type"].startswith("kubernetes:") for r in plan["resources"])
        where = f"fsp plan {subject.spec.slug}：策略包 fsp-grade3-kubernetes 评判该租户 Kubernetes 栈声明的 {resources} 个资源"
        if found:
            return Finding("k8s.policy_pack", Status.failed, "；".join(f"{v['policy']} {v['name']}: {v['message']}"
                                                                    for v in found[:10]), where, "修正栈的声明后重新 fsp plan")
        return Finding("k8s.policy_pack", Status.passed, "无违规（默认拒绝的网络策略、restricted Pod 安全标准、无特权容器等）", where)
    return _planned(subject, judge, "k8s.policy_pack")


def images_pinned(subject: Subject) -> Finding:
    def judge(plan: dict) -> Finding:
        found = [v for v in plan["violations"] if v["policy"] == IMAGES_POLICY]
        where = f"fsp plan {subject.spec.slug}（集群设置 FSP_K8S_*_IMAGE）"
        if not found:
            return Finding("k8s.images_pinned", Status.passed, "每个镜像均以 sha256 摘要固定", where)
        unset = all(repr(UNSET_IMAGE) in v["message"] for v in found)
        status = Status.not_applicable if unset and subject.development else Status.failed
        return Finding("k8s.images_pinned", status, "；".join(sorted({v["message"] for v in found})[:5]), where,
                       f"{DEPLOYMENT_ONLY}：部署时以 name@sha256:... 设置 FSP_K8S_*_IMAGE")
    return _planned(subject, judge, "k8s.images_pinned")


def ingress_tls(subject: Subject) -> Finding:
    def judge(plan: dict) -> Finding:
        ingresses = [r for r in plan["resources"] if r["type"] == INGRESS]
        plain = [r["name"] for r in ingresses if not (r["props"].get("spec") or {}).get("tls")
                 or ((r["props"].get("metadata") or {}).get("annotations") or {})
                 .get("nginx.ingress.kubernetes.io/ssl-redirect") != "true"]
        where = f"fsp plan {subject.spec.slug}：Ingress 的 spec.tls 与 ssl-redirect 注解"
        if not ingresses:
            return Finding("k8s.ingress_tls", Status.failed, "栈中没有 Ingress", where, "")
        return Finding("k8s.ingress_tls", Status.failed if plain else Status.passed,
                       f"未强制 TLS：{', '.join(plain)}" if plain else
                       f"{len(ingresses)} 个 Ingress 均配置 TLS（cert-manager 签发证书）并把 HTTP 重定向到 HTTPS", where,
                       "为 Ingress 配置 tls 与 ssl-redirect" if plain else "")
    return _planned(subject, judge, "k8s.ingress_tls")


CHECKS = {"issuer.development": development_issuer, "service.security_headers": security_headers,
          "service.rate_limits": rate_limits, "service.virus_scan": virus_scan, "service.tls": served_tls,
          "monitoring.scrape_target": scrape_target, "k8s.policy_pack": policy_pack, "k8s.images_pinned": images_pinned,
          "k8s.ingress_tls": ingress_tls}
