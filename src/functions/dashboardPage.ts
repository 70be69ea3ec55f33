// GET /api/dashboard and its assets (/api/dashboard/app.js, app.css), for signed-in operators:
// without a sign-in the page sends the browser to App Service Authentication's sign-in
// (/.auth/login/aad; the local host answers it with its development sign-in), the assets answer
// 401. Every answer carries the strict Content-Security-Policy and no-sniff.
import { HttpResponse, type HttpRequest } from "@azure/functions";
import type { AppConfig } from "../config";
import { DASHBOARD_CSP, DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./dashboardAssets";
import { check } from "./operatorApi";

const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export async function dashboardPage(config: AppConfig, request: HttpRequest): Promise<HttpResponse> {
  const checked = check(config, request, "read");
  if ("refused" in checked) {
    if (checked.refused.status === 401 && config.operatorSignIn === "easyauth") {
      return new HttpResponse({ status: 302, headers: { ...SECURITY_HEADERS, location: "/.auth/login/aad?post_login_redirect_uri=/api/dashboard" } });
    }
    return checked.refused;
  }
  return new HttpResponse({ status: 200, body: DASHBOARD_HTML, headers: { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8" } });
}

export async function dashboardAsset(config: AppConfig, request: HttpRequest): Promise<HttpResponse> {
  const checked = check(config, request, "read");
  if ("refused" in checked) return checked.refused;
  const asset = request.params.asset ?? "";
  if (asset === "app.js")
    return new HttpResponse({ status: 200, body: DASHBOARD_JS, headers: { ...SECURITY_HEADERS, "content-type": "text/javascript; charset=utf-8" } });
  if (asset === "app.css")
    return new HttpResponse({ status: 200, body: DASHBOARD_CSS, headers: { ...SECURITY_HEADERS, "content-type": "text/css; charset=utf-8" } });
  return new HttpResponse({ status: 404, jsonBody: { error: { code: "NotFound", message: `no dashboard asset ${asset}` } } });
}
