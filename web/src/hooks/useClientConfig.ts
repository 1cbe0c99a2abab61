"use client";

// The operator's client configuration from the gateway (GET /client-config). Without a
// gateway, or when it cannot be read, the page runs on its own defaults.

import { useEffect, useState } from "react";
import { EMPTY_CLIENT_CONFIG, type ClientConfig, type GatewayClient } from "@/lib/gateway";

export function useClientConfig(gw: GatewayClient | null): { config: ClientConfig; loaded: boolean } {
  const [state, setState] = useState({ config: EMPTY_CLIENT_CONFIG, loaded: gw === null });
  useEffect(() => {
    if (!gw) return;
    const ac = new AbortController();
    gw.clientConfig(ac.signal)
      .then((config) => setState({ config, loaded: true }))
      .catch(() => {
        if (!ac.signal.aborted) setState({ config: EMPTY_CLIENT_CONFIG, loaded: true });
      });
    return () => ac.abort();
  }, [gw]);
  return state;
}
