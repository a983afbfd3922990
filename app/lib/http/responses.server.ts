/** A page only the signed-in person may see: no shared cache (or back button) keeps a copy. */
export function privatePage(headers: Headers): Headers {
  const result = new Headers(headers);
  result.set("Cache-Control", "private, no-store");
  return result;
}

// A route's `headers` export: loader headers other than Set-Cookie reach the document only through it.
export function privatePageHeaders({ loaderHeaders }: { loaderHeaders: Headers }): HeadersInit {
  return { "Cache-Control": loaderHeaders.get("Cache-Control") ?? "private, no-store" };
}

/** The posted form, or a 400 (not the 500 `request.formData()` throws on a body that is not a form). */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    throw new Response("The form could not be read.", { status: 400 });
  }
}
