import { createContext, useContext } from "react";

// The per-request CSP nonce; empty in the browser, where scripts added after hydration are not inline.
export const NonceContext = createContext<string>("");

export function useNonce(): string {
  return useContext(NonceContext);
}
