/** Response helpers shared by routes. */

/**
 * Headers for a page only the signed-in person may see: the SDK's Set-Cookie headers kept,
 * and no shared cache (or a shared computer's back button) keeping a copy.
 */
export function privatePage(headers: Headers): Headers {
  const result = new Headers(headers);
  result.set("Cache-Control", "private, no-store");
  return result;
}

/**
 * A route's `headers` export for private pages: loader headers other than Set-Cookie only
 * reach the document through it (Set-Cookie is carried over by Remix on its own).
 */
export function privatePageHeaders({ loaderHeaders }: { loaderHeaders: Headers }): HeadersInit {
  return { "Cache-Control": loaderHeaders.get("Cache-Control") ?? "private, no-store" };
}

/**
 * The posted form, or a 400: `request.formData()` throws on a body that is not a form
 * (JSON, broken multipart, no content type), which would otherwise be a 500.
 */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    throw new Response("The form could not be read.", { status: 400 });
  }
}
