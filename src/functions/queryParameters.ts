// Every value a query parameter was given, as the client sent them. The Functions host hands a Node
// function a query map with one string per name, a repeated parameter's values joined with commas
// (ASP.NET's StringValues.ToString() in the host's ToRpcHttp), so request.query.getAll() sees one
// value; the request's URL keeps the query string as sent, so it is read from there.
import type { HttpRequest } from "@azure/functions";

export function queryValues(request: Pick<HttpRequest, "url">, name: string): string[] {
  return new URL(request.url).searchParams.getAll(name);
}
