/**
 * Per-model facts the translation needs. The Messages API requires `max_tokens` while OpenAI clients may omit
 * it and mean "as much as the model allows", so the default is the family's maximum output.
 */

/** Used when a model id is not recognised: every Claude model accepts it. */
const FALLBACK_MAX_TOKENS = 4096;

interface ModelVersion {
  family: string;
  major: number;
  minor: number;
}

/**
 * Reads family and version from ids in either naming scheme: `claude-3-5-sonnet-20241022` (version first)
 * and `claude-sonnet-4-5-20250929` (family first). Date suffixes, `-latest`, Vertex's `@date` and Bedrock's
 * `anthropic.` / region prefixes and `-v1:0` suffixes are tolerated.
 */
function parseModel(model: string): ModelVersion | undefined {
  const name = model.toLowerCase();
  const familyFirst = /claude-([a-z]+)-(\d+)(?:[-.](\d{1,2}))?(?![\d])/.exec(name);
  if (familyFirst?.[1] !== undefined && familyFirst[2] !== undefined) {
    return { family: familyFirst[1], major: Number(familyFirst[2]), minor: Number(familyFirst[3] ?? 0) };
  }
  const versionFirst = /claude-(\d+)(?:[-.](\d{1,2}))?-([a-z]+)/.exec(name);
  if (versionFirst?.[1] !== undefined && versionFirst[3] !== undefined) {
    return { family: versionFirst[3], major: Number(versionFirst[1]), minor: Number(versionFirst[2] ?? 0) };
  }
  return undefined;
}

/** The largest `max_tokens` the model accepts without a beta header, used when the client sent none. */
export function defaultMaxTokensFor(model: string): number {
  const version = parseModel(model);
  if (version === undefined) return FALLBACK_MAX_TOKENS;
  const { family, major, minor } = version;
  if (major <= 2) return FALLBACK_MAX_TOKENS;
  if (major === 3) {
    if (minor >= 7) return 64_000;
    if (minor >= 5) return 8192;
    return 4096;
  }
  if (major === 4) {
    if (family === 'opus') {
      if (minor <= 1) return 32_000;
      if (minor === 5) return 64_000;
      return 128_000;
    }
    return 64_000;
  }
  return 128_000;
}
