/**
 * The egress proxy upstream requests go through, as the usual HTTP_PROXY / HTTPS_PROXY / NO_PROXY variables name
 * it. A URL may carry the proxy's credentials (`http://user:password@proxy:3128`): it is never logged whole.
 */
export interface UpstreamProxy {
  /** The proxy for http:// upstreams (and for https:// ones when `httpsProxy` is unset); '' for none. */
  httpProxy: string;
  /** The proxy for https:// upstreams; '' for none. */
  httpsProxy: string;
  /** Hosts reached directly: comma- or space-separated names, `.domain` or `*.domain` suffixes, `host:port`, or `*`. */
  noProxy: string;
}

/** The proxy's URL without its credentials, for logs and messages. */
export function proxyOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}
