// Live updates: one EventSource on /api/v1/events. EventSource cannot set headers,
// and a token in a URL ends up in logs, so each connection first trades the token
// for a ticket (POST /api/v1/events/ticket: single-use, valid 60 s) and opens the
// stream with ?ticket=. The browser's own reconnect would present a spent ticket,
// so a broken stream is closed here and opened again with a fresh ticket, after a
// pause that grows to 30 s. The indicator shows whether the stream is open.
import { api, ApiError } from "./api.js";

export interface LiveEvent {
  type: "campaign" | "deployment";
  campaign: number;  // the campaign the event concerns
  data: Record<string, unknown>;
}

// An open live connection; close() ends it and every retry.
export interface Live {
  close(): void;
}

// `onReconnect` runs when the stream opens again after a break, since events sent
// in between are lost and the views must catch up.
export function connectLive(
  onEvent: (event: LiveEvent) => void,
  indicator: HTMLElement,
  onReconnect: () => void,
): Live {
  let source: EventSource | null = null;
  let retryTimer: number | undefined;
  let closed = false;
  let opened = false;
  let pause = 1000;
  const show = (state: string) => {
    indicator.textContent = state;
    indicator.className = `live live-${state}`;
  };

  const retry = () => {
    if (closed) return;
    show("connecting");
    retryTimer = window.setTimeout(() => void open(), pause);
    pause = Math.min(pause * 2, 30_000);
  };

  const open = async () => {
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>("POST", "/events/ticket")).ticket;
    } catch (e) {
      // A token that is no longer accepted will not be on the next try either;
      // the views' own calls report it.
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        show("offline");
        return;
      }
      retry();
      return;
    }
    if (closed) return;
    const stream = new EventSource(`/api/v1/events?ticket=${encodeURIComponent(ticket)}`);
    source = stream;
    stream.onopen = () => {
      pause = 1000;
      show("live");
      if (opened) onReconnect();
      opened = true;
    };
    stream.onerror = () => {
      stream.close();
      if (source === stream) source = null;
      retry();
    };
    for (const type of ["campaign", "deployment"] as const) {
      stream.addEventListener(type, (e) => {
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
  };

  show("connecting");
  void open();
  return {
    close() {
      closed = true;
      window.clearTimeout(retryTimer);
      source?.close();
      source = null;
    },
  };
}
