// Live updates: one EventSource on /api/v1/events (the token goes in the query,
// since EventSource cannot set headers). The browser reconnects by itself; the
// indicator shows whether the stream is open.
import { savedToken } from "./api.js";

export interface LiveEvent {
  type: "campaign" | "deployment";
  campaign: number;  // the campaign the event concerns
  data: Record<string, unknown>;
}

// `onReconnect` runs when the stream opens again after a break, since events sent
// in between are lost and the views must catch up.
export function connectLive(
  onEvent: (event: LiveEvent) => void,
  indicator: HTMLElement,
  onReconnect: () => void,
): EventSource {
  const token = encodeURIComponent(savedToken() ?? "");
  const source = new EventSource(`/api/v1/events?token=${token}`);
  const show = (state: string) => {
    indicator.textContent = state;
    indicator.className = `live live-${state}`;
  };
  show("connecting");
  let opened = false;
  source.onopen = () => {
    show("live");
    if (opened) onReconnect();
    opened = true;
  };
  source.onerror = () => show(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
  for (const type of ["campaign", "deployment"] as const) {
    source.addEventListener(type, (e) => {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
      } catch {
        return;
      }
      const campaign = Number(type === "campaign" ? data["id"] : data["campaign"]);
      onEvent({ type, campaign, data });
    });
  }
  return source;
}
