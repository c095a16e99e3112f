// The admin API (docs/api/admin.md) as the console uses it: the token, one fetch
// wrapper that turns the API's error shape into ApiError, and the JSON types.

const kTokenKey = "updraft.token";

export function savedToken(): string | null {
  return localStorage.getItem(kTokenKey);
}

export function saveToken(token: string): void {
  localStorage.setItem(kTokenKey, token);
}

export function forgetToken(): void {
  localStorage.removeItem(kTokenKey);
}

// An error the API answered: {"error":{"code","number","message"}} and the status.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly number: number,
    message: string,
  ) {
    super(message);
  }
  describe(): string {
    return `${this.code} (${this.number}): ${this.message}`;
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${savedToken() ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "NETWORK", 0, `cannot reach the server: ${String(e)}`);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const e = (parsed as ErrorBody | null)?.error;
    if (e) throw new ApiError(response.status, e.code, e.number, e.message);
    throw new ApiError(response.status, "HTTP", response.status, text || response.statusText);
  }
  return parsed as T;
}

interface ErrorBody {
  error?: { code: string; number: number; message: string };
}

export interface Product {
  id: number;
  name: string;
  profile: string;
  slot_size: number;
  sector_size: number;
  self_registration: boolean;
  created_at: number;
}

export interface Deployment {
  id: number;
  campaign: number;
  device: string;
  phase: number;
  state: string;
  progress: number;
  error: number;
  error_name: string;
  error_text: string;
  attempts: number;
  artifact_kind: string;
  message: string;
  not_before?: number;
  ignore_window?: boolean;
  created_at: number;
  updated_at: number;
  finished_at: number;
}

export interface Device {
  id: string;
  product: number;
  hardware: string;
  serial: string;
  tags: string[];
  version: string;
  battery: number;
  network: string;
  last_seen: number;
  decommissioned_at?: number;  // 0: in service
  image_sha256?: string;
  slot?: number;
  registered_at?: number;
  deployment: Deployment | null;
  last_deployment?: Deployment | null;
  deployments?: Deployment[];  // GET /devices/{id}: every one, oldest first
}

export interface Release {
  id: number;
  product: string;
  version: string;
  security_counter: number;
  hardware: string[];
  size: number;
  sha256: string;
  notes: string;
  created_at: number;
}

export interface PhaseSpec {
  percent?: number;
  count?: number;
}

export interface PhaseProgress {
  devices: number;
  released: number;
  succeeded: number;
  failed: number;
}

export interface Campaign {
  id: number;
  name: string;
  product: number;
  release: number;
  target: { hardware: string[]; versions: string[]; tags: string[]; devices: string[] };
  phases: PhaseSpec[];
  success_threshold: number;
  failure_threshold: number;
  max_concurrent_downloads: number;
  force: boolean;
  deployment_timeout_seconds?: number;
  start_at?: number;
  dynamic?: boolean;
  state: string;
  current_phase: number;
  pause_reason: string;
  created_by: string;
  created_at: number;
  started_at: number;
  finished_at: number;
  deployments?: { total: number; by_state: Record<string, number> };
  phase_progress?: PhaseProgress[];
}

export interface AuditEvent {
  id: number;
  at: number;
  actor: string;
  action: string;
  object: string;
  details: unknown;
}

// Deployment states after which nothing more happens to the deployment.
export const kFinalStates = ["succeeded", "failed", "rolled_back", "canceled"];

export interface Session {
  name: string;
  role: "viewer" | "operator" | "admin";
}

// What the caller's role allows: viewers read, operators change the fleet,
// admins also manage products and tokens (docs/api/admin.md).
export function mayOperate(s: Session | null): boolean {
  return s?.role === "operator" || s?.role === "admin";
}
export function mayAdminister(s: Session | null): boolean {
  return s?.role === "admin";
}

export interface HistoryEntry {
  deployment: number;
  campaign: number;
  at: number;
  state: string;
  progress: number;
  error: number;
  error_name: string;
  attempt: number;
  message: string;
}

export interface LogLine {
  at: number;
  line: string;
}

export interface Token {
  id: number;
  name: string;
  role: string;
  created_at: number;
  expires_at: number;
  last_used_at: number;
  revoked_at: number;
  state: string;
}

export interface DeltaInfo {
  from_sha256: string;
  from_version: string | null;
  profile: string;
  state: string;
  size: number;
  ratio: number | null;
  build_ms: number;
  hits: number;
  error: string;
  created_at: number;
}

// POSTs a file as the body (a release image), reporting the bytes sent so far:
// fetch() has no upload progress, XMLHttpRequest does.
export function uploadFile<T>(path: string, file: Blob, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.setRequestHeader("Authorization", `Bearer ${savedToken() ?? ""}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, "NETWORK", 0, "the upload was cut off"));
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(parsed as T);
        return;
      }
      const e = (parsed as ErrorBody | null)?.error;
      reject(e ? new ApiError(xhr.status, e.code, e.number, e.message)
        : new ApiError(xhr.status, "HTTP", xhr.status, xhr.responseText || xhr.statusText));
    };
    xhr.send(file);
  });
}
