import { createContext, useContext } from "react";

/**
 * The per-request CSP nonce (app/entry.server.tsx). Remix's own inline scripts need it;
 * in the browser it is empty, since scripts added after hydration are not inline.
 */
export const NonceContext = createContext<string>("");

export function useNonce(): string {
  return useContext(NonceContext);
}
