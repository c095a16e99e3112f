// The admin API (docs/api/admin.md): products, devices, releases, campaigns,
// deployments, audit log, tokens, live events and metrics. Tokens carry a role:
// viewer reads, operator changes the fleet, admin also manages products and tokens.
#include <charconv>

#include "server/api/api_errors.h"
#include "server/api/json_codec.h"
#include "server/api/routes.h"
#include "server/services/deployment_events.h"
#include "server/services/json_fields.h"

namespace updraft::server::api {
namespace {

using net::http::Method;
using net::http::Request;
using net::http::Response;

template <typename T>
Response or_error(const HostResult<T>& r, const std::function<json(const T&)>& to) {
  if (!r.ok()) return error_response(r.error());
  return ok_json(to(*r));
}

// A Unix time (seconds) from the query, when given; 400 when it is not one.
HostResult<std::optional<UnixTime>> query_time(const Request& request, const char* name) {
  const auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::optional<UnixTime>();
  UnixTime value = 0;
  const auto [end, ec] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || end != it->second.data() + it->second.size())
    return bad_request(std::string(name) + ": a Unix time in seconds");
  return std::optional<UnixTime>(value);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string product_name(ApiContext& ctx, ProductId id) {
  HostResult<Product> p = ctx.fleet.product(id);
  return p.ok() ? p->name : std::string();
}

// --- Products (admin creates; viewers read).

Response create_product(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  ProductSpec spec;
  spec.name = body->value("name", std::string());
  spec.profile = body->value("profile", spec.profile);
  HostResult<std::int64_t> slot_size = integer_field(*body, "slot_size", 0, 0, 0xFFFFFFFF);
  if (!slot_size.ok()) return error_response(slot_size.error());
  HostResult<std::int64_t> sector_size =
      integer_field(*body, "sector_size", 4096, 1, 16 * 1024 * 1024);
  if (!sector_size.ok()) return error_response(sector_size.error());
  spec.slot_size = static_cast<std::uint32_t>(*slot_size);
  spec.sector_size = static_cast<std::uint32_t>(*sector_size);
  spec.provisioning_secret = body->value("provisioning_secret", std::string());
  if (body->contains("while_delta_builds") && !(*body)["while_delta_builds"].is_string()) {
    return error_response(
        Error(ErrorCode::kApiBadRequest, "while_delta_builds: \"retry\" or \"full-image\""));
  }
  spec.while_delta_builds = body->value("while_delta_builds", spec.while_delta_builds);
  HostResult<std::int64_t> budget = integer_field(*body, "delta_budget_seconds", 0, 0, 86400 * 7);
  if (!budget.ok()) return error_response(budget.error());
  spec.delta_budget_seconds = static_cast<std::uint32_t>(*budget);
  HostResult<NewProduct> created = ctx.fleet.create_product(spec, who.name, ctx.now());
  if (!created.ok()) return error_response(created.error());
  json out = to_json(created->product);
  if (!created->provisioning_secret.empty())
    out["provisioning_secret"] = created->provisioning_secret;  // shown once
  return ok_json(out, 201);
}

// PATCH /api/v1/products/{name}: how the product waits for deltas. Whatever
// else a product has stays as created, and asking to change it is a 400.
Response update_product(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  ProductChanges changes;
  for (const auto& [key, value] : body->items()) {
    if (key == "while_delta_builds") {
      if (!value.is_string()) {
        return error_response(
            Error(ErrorCode::kApiBadRequest, "while_delta_builds: \"retry\" or \"full-image\""));
      }
      changes.while_delta_builds = value.get<std::string>();
    } else if (key == "delta_budget_seconds") {
      HostResult<std::int64_t> budget = integer_field(*body, key, 0, 0, 86400 * 7);
      if (!budget.ok()) return error_response(budget.error());
      changes.delta_budget_seconds = static_cast<std::uint32_t>(*budget);
    } else {
      return error_response(
          Error(ErrorCode::kApiBadRequest, key + " cannot be changed; while_delta_builds and "
                                                 "delta_budget_seconds can"));
    }
  }
  HostResult<Product> updated =
      ctx.fleet.update_product(request.param("name"), changes, who.name, ctx.now());
  if (!updated.ok()) return error_response(updated.error());
  return ok_json(to_json(*updated));
}

// --- Devices.

Response register_device(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  DeviceSpec spec;
  spec.id.value = body->value("id", std::string());
  spec.product = body->value("product", std::string());
  spec.hardware = body->value("hardware", std::string());
  spec.tags = body->value("tags", std::vector<std::string>{});
  spec.serial = body->value("serial", std::string());
  spec.secret = body->value("secret", std::string());
  HostResult<NewDevice> created =
      ctx.fleet.register_device(spec, Registrar::kOperator, who.name, ctx.now());
  if (!created.ok()) return error_response(created.error());
  json out = to_json(created->device);
  out["secret"] = created->secret;  // shown once
  return ok_json(out, 201);
}

Response list_devices(Request& request, ApiContext& ctx) {
  DeviceQuery q;
  q.product = query(request, "product");
  q.filter.hardware = query(request, "hardware");
  q.filter.version = query(request, "version");
  q.filter.tag = query(request, "tag");
  q.filter.id_prefix = query(request, "id");
  HostResult<std::optional<UnixTime>> seen_after = query_time(request, "seen_after");
  if (!seen_after.ok()) return error_response(seen_after.error());
  HostResult<std::optional<UnixTime>> seen_before = query_time(request, "seen_before");
  if (!seen_before.ok()) return error_response(seen_before.error());
  q.filter.seen_after = *seen_after;
  q.filter.seen_before = *seen_before;
  q.filter.limit = query_size(request, "limit", 100, 10000);
  q.filter.offset = query_size(request, "offset", 0, std::numeric_limits<std::uint32_t>::max());
  q.state = query(request, "state");
  HostResult<DevicePage> page = ctx.fleet.devices(q);
  if (!page.ok()) return error_response(page.error());
  json list = json::array();
  for (const DeviceRow& row : page->devices) {
    json j = to_json(row.device);
    j["deployment"] = row.open ? to_json(*row.open) : json(nullptr);
    j["last_deployment"] = row.latest ? to_json(*row.latest) : json(nullptr);
    list.push_back(std::move(j));
  }
  return ok_json({{"devices", list}, {"total", page->total}});
}

Response device_view(ApiContext& ctx, const DeviceId& id) {
  HostResult<Device> d = ctx.fleet.device(id);
  if (!d.ok()) return error_response(d.error());
  json j = to_json(*d);
  HostResult<std::vector<Deployment>> deployments = ctx.fleet.deployments_of(d->id);
  json list = json::array();
  if (deployments.ok()) {
    for (const Deployment& dep : *deployments) list.push_back(to_json(dep));
  }
  j["deployments"] = list;
  return ok_json(j);
}

Response device_history(Request& request, ApiContext& ctx) {
  const std::size_t limit = query_size(request, "limit", 100, 1000);
  const std::size_t offset =
      query_size(request, "offset", 0, std::numeric_limits<std::uint32_t>::max());
  HostResult<HistoryPage> page = ctx.fleet.history(DeviceId{request.param("id")}, limit, offset);
  if (!page.ok()) return error_response(page.error());
  json list = json::array();
  for (const DeploymentHistoryEntry& e : page->entries) list.push_back(to_json(e));
  return ok_json({{"history", list}, {"total", page->total}});
}

Response deployment_log(Request& request, ApiContext& ctx) {
  HostResult<std::int64_t> id = id_param(request, "deployment");
  if (!id.ok()) return error_response(id.error());
  const std::size_t limit = query_size(request, "limit", 1000, 1000);
  const std::size_t offset =
      query_size(request, "offset", 0, std::numeric_limits<std::uint32_t>::max());
  HostResult<LogPage> page = ctx.fleet.deployment_log(DeploymentId{*id}, limit, offset);
  if (!page.ok()) return error_response(page.error());
  json lines = json::array();
  for (const DeploymentLogLine& l : page->lines) lines.push_back({{"at", l.at}, {"line", l.line}});
  return ok_json({{"lines", lines}, {"total", page->total}, {"dropped", page->dropped}});
}

// An operator's action on one deployment (CampaignService::cancel_deployment and
// the others beside it).
Response deployment_action(Request& request, ApiContext& ctx, const ApiToken& who,
                           const std::string& action) {
  HostResult<std::int64_t> id = id_param(request, "deployment");
  if (!id.ok()) return error_response(id.error());
  const DeploymentId dep{*id};
  HostResult<Deployment> changed = Error(ErrorCode::kApiNotFound, "no such action");
  if (action == "cancel") {
    changed = ctx.campaigns.cancel_deployment(dep, who.name, ctx.now());
  } else if (action == "retry") {
    changed = ctx.campaigns.retry_deployment(dep, who.name, ctx.now());
  } else if (action == "update-now") {
    changed = ctx.campaigns.update_now(dep, who.name, ctx.now());
  } else if (action == "defer") {
    HostResult<json> body = parse_object(request);
    if (!body.ok()) return error_response(body.error());
    const json until = body->value("until", json());
    if (!until.is_number_integer() || until.get<std::int64_t>() < 0)
      return error_response(bad_request("until: a Unix time in seconds (0 lifts the deferral)"));
    changed = ctx.campaigns.defer_deployment(dep, until.get<std::int64_t>(), who.name, ctx.now());
  }
  if (!changed.ok()) return error_response(changed.error());
  return ok_json(to_json(*changed));
}

Response set_tags(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  if (!body->contains("tags") || !(*body)["tags"].is_array())
    return error_response(bad_request("tags: a list of text"));
  const auto tags = (*body)["tags"].get<std::vector<std::string>>();
  const DeviceId id{request.param("id")};
  HostResult<Device> updated = ctx.fleet.set_tags(id, tags, who.name, ctx.now());
  if (!updated.ok()) return error_response(updated.error());
  return device_view(ctx, id);
}

Response set_serial(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  if (!body->contains("serial") || !(*body)["serial"].is_string())
    return error_response(bad_request("serial: text (\"\" removes it)"));
  const DeviceId id{request.param("id")};
  HostResult<Device> updated =
      ctx.fleet.set_serial(id, (*body)["serial"].get<std::string>(), who.name, ctx.now());
  if (!updated.ok()) return error_response(updated.error());
  return device_view(ctx, id);
}

// --- A product's EnOS settings (docs/api/enos.md).

Response enos_settings(Request& request, ApiContext& ctx, const ApiToken* who) {
  HostResult<Product> product = ctx.fleet.product(request.param("name"));
  if (!product.ok()) return error_response(product.error());
  HostResult<EnosSettings> current = ctx.enos.settings(product->id);
  if (!current.ok()) return error_response(current.error());
  if (who == nullptr) return ok_json(to_json(*current));
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<EnosSettings> updated = enos_settings_from_json(*body, *current);
  if (!updated.ok()) return error_response(updated.error());
  if (auto r = ctx.enos.set_settings(*product, *updated, who->name, ctx.now()); !r.ok())
    return error_response(r.error());
  return ok_json(to_json(*updated));
}

// --- Releases.

// The upload's fields, from the query (the body is the image).
HostResult<ReleaseUpload> release_upload_of(const Request& request) {
  ReleaseUpload up;
  up.product = query(request, "product");
  up.version = query(request, "version");
  up.hardware = split_list(query(request, "hardware"));
  up.allow_downgrade = query(request, "allow_downgrade") == "true";
  up.notes = query(request, "notes");
  up.enos_version = query(request, "enos_version");
  const std::string counter = query(request, "security_counter");
  const auto [end, ec] =
      std::from_chars(counter.data(), counter.data() + counter.size(), up.security_counter);
  if (counter.empty() || ec != std::errc() || end != counter.data() + counter.size()) {
    return bad_request("security_counter: required, a number");
  }
  return up;
}

// Before a byte of the image is read: the operator's token, every rule that needs
// no image, and the most bytes the image may have. The image streams to a file.
net::http::Admission admit_release_upload(Request& request, ApiContext& ctx, AdminAuth& auth) {
  net::http::Admission admission;
  HostResult<ApiToken> who = auth.require(request, Role::kOperator);
  HostResult<ReleaseUpload> up = release_upload_of(request);
  HostResult<std::uint64_t> limit = !who.ok()  ? HostResult<std::uint64_t>(who.error())
                                    : !up.ok() ? HostResult<std::uint64_t>(up.error())
                                               : ctx.releases.upload_limit(*up);
  if (!limit.ok()) {
    admission.refusal = error_response(limit.error());
    return admission;
  }
  admission.max_body_bytes = static_cast<std::size_t>(*limit);
  admission.body_to_file = true;
  return admission;
}

Response upload_release(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<ReleaseUpload> up = release_upload_of(request);
  if (!up.ok()) return error_response(up.error());
  HostResult<Release> r =
      request.body_file
          ? ctx.releases.upload(*up,
                                ImageFile{request.body_file->path, request.body_file->size,
                                          request.body_file->sha256},
                                who.name, ctx.now())
          : ctx.releases.upload(*up, as_bytes_view(request.body.data(), request.body.size()),
                                who.name, ctx.now());
  if (!r.ok()) return error_response(r.error());
  return ok_json(to_json(*r, up->product), 201);
}

// A list's ?limit= (default 100, at most 1000) and ?offset=.
std::pair<std::size_t, std::size_t> page_of(const Request& request) {
  return {query_size(request, "limit", 100, 1000),
          query_size(request, "offset", 0, std::numeric_limits<std::uint32_t>::max())};
}

// The page of `all` that ?limit= and ?offset= ask for, for lists short enough
// to read whole (products, tokens).
template <typename T, typename ToJson>
json page_json(const Request& request, const std::vector<T>& all, ToJson to_json_item) {
  const auto [limit, offset] = page_of(request);
  json list = json::array();
  for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i)
    list.push_back(to_json_item(all[i]));
  return list;
}

Response list_releases(Request& request, ApiContext& ctx) {
  std::optional<ProductId> product;
  if (const std::string p = query(request, "product"); !p.empty()) {
    HostResult<Product> found = ctx.fleet.product(p);
    if (!found.ok()) return ok_json({{"releases", json::array()}, {"total", 0}});
    product = found->id;
  }
  const auto [limit, offset] = page_of(request);
  HostResult<Page<Release>> page = ctx.releases.release_page(product, limit, offset);
  if (!page.ok()) return error_response(page.error());
  json list = json::array();
  for (const Release& r : page->items) list.push_back(to_json(r, product_name(ctx, r.product)));
  return ok_json({{"releases", list}, {"total", page->total}});
}

// The patches built to a release: from which version (null for an image no
// release of the product has), profile, state, size and its share of the full
// image, how long the build took, how often it was served.
Response release_deltas(Request& request, ApiContext& ctx) {
  HostResult<std::int64_t> id = id_param(request, "release");
  if (!id.ok()) return error_response(id.error());
  HostResult<Release> rel = ctx.releases.release(ReleaseId{*id});
  if (!rel.ok()) return error_response(rel.error());
  HostResult<std::vector<DeltaRecord>> built = ctx.deltas.built_to(rel->sha256);
  if (!built.ok()) return error_response(built.error());
  HostResult<std::vector<Release>> siblings = ctx.releases.releases(rel->product);
  if (!siblings.ok()) return error_response(siblings.error());
  json list = json::array();
  for (const DeltaRecord& d : *built) {
    json from_version = nullptr;
    for (const Release& r : *siblings) {
      if (r.sha256 == d.from_sha256) from_version = r.version;
    }
    const bool sized = d.state == DeltaState::kReady || d.state == DeltaState::kNotSmaller;
    list.push_back({{"from_sha256", d.from_sha256},
                    {"from_version", from_version},
                    {"profile", delta::profile_name(static_cast<std::uint8_t>(d.profile))},
                    {"state", name_of(d.state)},
                    {"size", d.size},
                    {"ratio", sized && rel->size > 0 ? json(static_cast<double>(d.size) /
                                                            static_cast<double>(rel->size))
                                                     : json(nullptr)},
                    {"build_ms", d.build_ms},
                    {"hits", d.hits},
                    {"error", d.error},
                    {"created_at", d.created_at}});
  }
  return ok_json({{"release", *id}, {"size", rel->size}, {"deltas", list}});
}

// --- Campaigns.

Response create_campaign(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  HostResult<Campaign> c = campaign_from_json(*body);
  if (!c.ok()) return error_response(c.error());
  HostResult<CampaignCreated> created = ctx.campaigns.create(*c, who.name, ctx.now());
  if (!created.ok()) return error_response(created.error());
  HostResult<CampaignProgress> progress = ctx.campaigns.progress(created->campaign.id);
  if (!progress.ok()) return error_response(progress.error());
  json out = to_json(*progress);
  out["excluded"] = to_json(created->excluded);  // matched the target but left out, by reason
  return ok_json(out, 201);
}

Response campaign_progress(ApiContext& ctx, CampaignId id) {
  HostResult<CampaignProgress> p = ctx.campaigns.progress(id);
  if (!p.ok()) return error_response(p.error());
  return ok_json(to_json(*p));
}

Response campaign_action(Request& request, ApiContext& ctx, const ApiToken& who,
                         const std::string& action) {
  HostResult<std::int64_t> id = id_param(request, "campaign");
  if (!id.ok()) return error_response(id.error());
  const CampaignId cid{*id};
  const UnixTime now = ctx.now();
  HostResult<Campaign> r = Error(ErrorCode::kApiNotFound, "no such action");
  if (action == "start") {
    r = ctx.campaigns.start(cid, who.name, now);
  }
  if (action == "pause") r = ctx.campaigns.pause(cid, who.name, now);
  if (action == "abort") r = ctx.campaigns.abort(cid, who.name, now);
  if (action == "resume") {
    std::optional<double> threshold;
    if (!request.body.empty()) {
      HostResult<json> body = parse_object(request);
      if (!body.ok()) return error_response(body.error());
      if (body->contains("failure_threshold"))
        threshold = (*body)["failure_threshold"].get<double>();
    }
    r = ctx.campaigns.resume(cid, threshold, who.name, now);
  }
  if (!r.ok()) return error_response(r.error());
  return campaign_progress(ctx, cid);
}

Response list_deployments(Request& request, ApiContext& ctx) {
  HostResult<std::int64_t> id = id_param(request, "campaign");
  if (!id.ok()) return error_response(id.error());
  DeploymentFilter filter;
  filter.campaign = CampaignId{*id};
  if (const std::string s = query(request, "state"); !s.empty()) {
    filter.state = from_name<DeploymentState>(s);
    if (!filter.state)
      return error_response(bad_request("state: unknown deployment state \"" + s + "\""));
  }
  filter.limit = query_size(request, "limit", 1000, 100000);
  filter.offset = query_size(request, "offset", 0, std::numeric_limits<std::uint32_t>::max());
  HostResult<std::vector<Deployment>> list = ctx.campaigns.deployments(filter);
  if (!list.ok()) return error_response(list.error());
  json out = json::array();
  for (const Deployment& d : *list) out.push_back(to_json(d));
  // The campaign's count in the filter's state (all states: their sum), from
  // the per-state index rather than by reading every row.
  HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> counts =
      ctx.campaigns.deployment_counts(filter.campaign);
  if (!counts.ok()) return error_response(counts.error());
  std::size_t total = 0;
  for (const auto& [state, n] : *counts) {
    if (!filter.state || *filter.state == state) total += n;
  }
  return ok_json({{"deployments", out}, {"total", total}});
}

// --- Tokens.

// 0 for "never" in expires_at, last_used_at and revoked_at, as last_seen has it.
json token_json(const ApiToken& t, UnixTime now) {
  const char* state = t.revoked_at != 0 ? "revoked" : is_active(t, now) ? "active" : "expired";
  return {{"id", t.id.value},           {"name", t.name},
          {"role", name_of(t.role)},    {"created_at", t.created_at},
          {"expires_at", t.expires_at}, {"last_used_at", t.last_used_at},
          {"revoked_at", t.revoked_at}, {"state", state}};
}

Response create_token(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<json> body = parse_object(request);
  if (!body.ok()) return error_response(body.error());
  const UnixTime now = ctx.now();
  if (body->contains("expires_in_days") && body->contains("expires_at"))
    return error_response(bad_request("expires_in_days: give it or expires_at, not both"));
  HostResult<std::int64_t> days = integer_field(*body, "expires_in_days", 0, 1, 100 * 365);
  if (!days.ok()) return error_response(days.error());
  HostResult<std::int64_t> expires_at =
      integer_field(*body, "expires_at", 0, 0, std::numeric_limits<std::int64_t>::max() / 2);
  if (!expires_at.ok()) return error_response(expires_at.error());
  if (*days != 0) *expires_at = now + *days * 24 * 3600;
  HostResult<NewToken> created = ctx.fleet.create_token(body->value("name", std::string()),
                                                        body->value("role", std::string("viewer")),
                                                        who.name, now, *expires_at);
  if (!created.ok()) return error_response(created.error());
  json out = token_json(created->token, now);
  out["token"] = created->secret;  // shown once
  return ok_json(out, 201);
}

// --- Device credentials.

Response rotate_secret(Request& request, ApiContext& ctx, const ApiToken& who) {
  std::string secret;
  if (!request.body.empty()) {
    HostResult<json> body = parse_object(request);
    if (!body.ok()) return error_response(body.error());
    if (body->contains("secret") && !(*body)["secret"].is_string())
      return error_response(bad_request("secret: text of at least 16 characters"));
    secret = body->value("secret", std::string());
  }
  HostResult<NewDevice> rotated =
      ctx.fleet.rotate_device_secret(DeviceId{request.param("id")}, secret, who.name, ctx.now());
  if (!rotated.ok()) return error_response(rotated.error());
  json out = to_json(rotated->device);
  out["secret"] = rotated->secret;  // shown once
  return ok_json(out);
}

Response decommission(Request& request, ApiContext& ctx, const ApiToken& who) {
  HostResult<DecommissionedDevice> done =
      ctx.fleet.decommission_device(DeviceId{request.param("id")}, who.name, ctx.now());
  if (!done.ok()) return error_response(done.error());
  json canceled = json::array();
  for (const Deployment& d : done->canceled) {
    // FleetService knows no event bus; the change goes out in the one shape here.
    publish_deployment(ctx.events, d);
    canceled.push_back(d.id.value);
  }
  json out = to_json(done->device);
  out["canceled_deployments"] = canceled;
  return ok_json(out);
}

}  // namespace

void add_admin_routes(net::http::Router& router, ApiContext& ctx, AdminAuth& auth) {
  auto with = [&auth](Role role, std::function<Response(Request&, const ApiToken&)> handler) {
    return auth.endpoint(role, std::move(handler));
  };
  const Role viewer = Role::kViewer, op = Role::kOperator, admin = Role::kAdmin;

  // Unauthenticated, for load balancers: 503 when the store takes no write or the
  // disk is below --min-free-disk-mb, so traffic goes to a server that can keep it.
  router.add(Method::kGet, "/api/v1/health", [&ctx](Request&) {
    const HealthReport h = ctx.health.check(ctx.now());
    json store = {{"writable", h.store_writable}};
    if (!h.store_error.empty()) store["error"] = h.store_error;
    json disk = {{"free_bytes", h.disk_free_bytes},
                 {"total_bytes", h.disk_total_bytes},
                 {"min_free_bytes", h.min_free_bytes},
                 {"low", h.disk_low()}};
    if (!h.disk_error.empty()) disk["error"] = h.disk_error;
    return ok_json({{"status", h.ok() ? "ok" : "degraded"}, {"store", store}, {"disk", disk}},
                   h.ok() ? 200 : 503);
  });
  router.add(Method::kGet, "/metrics", [&ctx](Request&) {
    HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> counts =
        ctx.campaigns.deployment_counts();
    std::vector<std::pair<DeploymentState, std::size_t>> by_state;
    if (counts.ok()) by_state = *counts;
    return Response::text(
        200, ctx.metrics.render(ctx.deltas.stats(), by_state, ctx.health.check(ctx.now())),
        "text/plain; version=0.0.4");
  });

  router.add(Method::kPost, "/api/v1/products", with(admin, [&ctx](Request& r, const ApiToken& w) {
               return create_product(r, ctx, w);
             }));
  router.add(Method::kGet, "/api/v1/products", with(viewer, [&ctx](Request& r, const ApiToken&) {
               HostResult<std::vector<Product>> products = ctx.fleet.products();
               if (!products.ok()) return error_response(products.error());
               return ok_json({{"products", page_json(r, *products,
                                                      [](const Product& p) { return to_json(p); })},
                               {"total", products->size()}});
             }));

  router.add(
      Method::kPatch, "/api/v1/products/{name}",
      with(admin, [&ctx](Request& r, const ApiToken& w) { return update_product(r, ctx, w); }));
  router.add(Method::kDelete, "/api/v1/products/{name}",
             with(admin, [&ctx](Request& r, const ApiToken& w) {
               HostResult<Product> gone =
                   ctx.fleet.remove_product(r.param("name"), w.name, ctx.now());
               if (!gone.ok()) return error_response(gone.error());
               return ok_json(to_json(*gone));
             }));

  router.add(Method::kPost, "/api/v1/devices", with(op, [&ctx](Request& r, const ApiToken& w) {
               return register_device(r, ctx, w);
             }));
  router.add(Method::kGet, "/api/v1/devices",
             with(viewer, [&ctx](Request& r, const ApiToken&) { return list_devices(r, ctx); }));
  router.add(Method::kGet, "/api/v1/devices/{id}",
             with(viewer, [&ctx](Request& r, const ApiToken&) {
               return device_view(ctx, DeviceId{r.param("id")});
             }));
  router.add(Method::kGet, "/api/v1/devices/{id}/history",
             with(viewer, [&ctx](Request& r, const ApiToken&) { return device_history(r, ctx); }));
  router.add(Method::kPut, "/api/v1/devices/{id}/tags",
             with(op, [&ctx](Request& r, const ApiToken& w) { return set_tags(r, ctx, w); }));
  router.add(Method::kPut, "/api/v1/devices/{id}/serial",
             with(op, [&ctx](Request& r, const ApiToken& w) { return set_serial(r, ctx, w); }));
  router.add(Method::kPost, "/api/v1/devices/{id}/secret",
             with(op, [&ctx](Request& r, const ApiToken& w) { return rotate_secret(r, ctx, w); }));
  router.add(Method::kPost, "/api/v1/devices/{id}/decommission",
             with(op, [&ctx](Request& r, const ApiToken& w) { return decommission(r, ctx, w); }));
  router.add(
      Method::kGet, "/api/v1/products/{name}/enos",
      with(viewer, [&ctx](Request& r, const ApiToken&) { return enos_settings(r, ctx, nullptr); }));
  router.add(
      Method::kPut, "/api/v1/products/{name}/enos",
      with(admin, [&ctx](Request& r, const ApiToken& w) { return enos_settings(r, ctx, &w); }));

  net::http::Endpoint upload =
      with(op, [&ctx](Request& r, const ApiToken& w) { return upload_release(r, ctx, w); });
  upload.admit = [&ctx, &auth](Request& r) { return admit_release_upload(r, ctx, auth); };
  router.add(Method::kPost, "/api/v1/releases", std::move(upload));
  router.add(Method::kGet, "/api/v1/releases",
             with(viewer, [&ctx](Request& r, const ApiToken&) { return list_releases(r, ctx); }));
  router.add(Method::kGet, "/api/v1/releases/{id}/deltas",
             with(viewer, [&ctx](Request& r, const ApiToken&) { return release_deltas(r, ctx); }));
  router.add(Method::kDelete, "/api/v1/releases/{id}",
             with(op, [&ctx](Request& r, const ApiToken& w) {
               HostResult<std::int64_t> id = id_param(r, "release");
               if (!id.ok()) return error_response(id.error());
               HostResult<Release> gone =
                   ctx.releases.remove(ReleaseId{*id}, ctx.deltas, w.name, ctx.now());
               if (!gone.ok()) return error_response(gone.error());
               return ok_json(to_json(*gone, product_name(ctx, gone->product)));
             }));
  router.add(Method::kGet, "/api/v1/releases/{id}",
             with(viewer, [&ctx](Request& r, const ApiToken&) {
               HostResult<std::int64_t> id = id_param(r, "release");
               if (!id.ok()) return error_response(id.error());
               HostResult<Release> rel = ctx.releases.release(ReleaseId{*id});
               if (!rel.ok()) return error_response(rel.error());
               return ok_json(to_json(*rel, product_name(ctx, rel->product)));
             }));

  router.add(Method::kPost, "/api/v1/campaigns", with(op, [&ctx](Request& r, const ApiToken& w) {
               return create_campaign(r, ctx, w);
             }));
  router.add(Method::kGet, "/api/v1/campaigns", with(viewer, [&ctx](Request& r, const ApiToken&) {
               const auto [limit, offset] = page_of(r);
               HostResult<Page<Campaign>> page = ctx.campaigns.campaign_page(limit, offset);
               if (!page.ok()) return error_response(page.error());
               json list = json::array();
               for (const Campaign& c : page->items) {
                 HostResult<CampaignProgress> p = ctx.campaigns.progress(c.id);
                 list.push_back(p.ok() ? to_json(*p) : to_json(c));
               }
               return ok_json({{"campaigns", list}, {"total", page->total}});
             }));
  router.add(Method::kGet, "/api/v1/campaigns/{id}",
             with(viewer, [&ctx](Request& r, const ApiToken&) {
               HostResult<std::int64_t> id = id_param(r, "campaign");
               if (!id.ok()) return error_response(id.error());
               return campaign_progress(ctx, CampaignId{*id});
             }));
  router.add(Method::kDelete, "/api/v1/campaigns/{id}",
             with(op, [&ctx](Request& r, const ApiToken& w) {
               HostResult<std::int64_t> id = id_param(r, "campaign");
               if (!id.ok()) return error_response(id.error());
               HostResult<Campaign> gone = ctx.campaigns.remove(CampaignId{*id}, w.name, ctx.now());
               if (!gone.ok()) return error_response(gone.error());
               return ok_json(to_json(*gone));
             }));
  for (const char* action : {"start", "pause", "resume", "abort"}) {
    router.add(Method::kPost, std::string("/api/v1/campaigns/{id}/") + action,
               with(op, [&ctx, a = std::string(action)](Request& r, const ApiToken& w) {
                 return campaign_action(r, ctx, w, a);
               }));
  }
  router.add(
      Method::kGet, "/api/v1/campaigns/{id}/deployments",
      with(viewer, [&ctx](Request& r, const ApiToken&) { return list_deployments(r, ctx); }));
  for (const char* action : {"cancel", "retry", "update-now", "defer"}) {
    router.add(Method::kPost, std::string("/api/v1/deployments/{id}/") + action,
               with(op, [&ctx, a = std::string(action)](Request& r, const ApiToken& w) {
                 return deployment_action(r, ctx, w, a);
               }));
  }
  router.add(Method::kGet, "/api/v1/deployments/{id}/log",
             with(viewer, [&ctx](Request& r, const ApiToken&) { return deployment_log(r, ctx); }));
  router.add(Method::kGet, "/api/v1/deployments/{id}",
             with(viewer, [&ctx](Request& r, const ApiToken&) {
               HostResult<std::int64_t> id = id_param(r, "deployment");
               if (!id.ok()) return error_response(id.error());
               HostResult<Deployment> d = ctx.campaigns.deployment(DeploymentId{*id});
               if (!d.ok()) return error_response(d.error());
               return ok_json(to_json(*d));
             }));

  router.add(Method::kGet, "/api/v1/audit", with(viewer, [&ctx](Request& r, const ApiToken&) {
               const std::size_t limit = query_size(r, "limit", 100, 1000);
               const auto before = static_cast<std::int64_t>(
                   query_size(r, "before", 0, std::numeric_limits<std::int64_t>::max()));
               HostResult<std::vector<AuditEvent>> events = ctx.fleet.audit(limit, before);
               if (!events.ok()) return error_response(events.error());
               json list = json::array();
               for (const AuditEvent& e : *events) list.push_back(to_json(e));
               return ok_json({{"events", list}});
             }));

  // Who the caller is: the console shows only what the token's role may do.
  router.add(Method::kGet, "/api/v1/session", with(viewer, [](Request&, const ApiToken& w) {
               return ok_json({{"name", w.name}, {"role", name_of(w.role)}});
             }));
  router.add(Method::kPost, "/api/v1/tokens", with(admin, [&ctx](Request& r, const ApiToken& w) {
               return create_token(r, ctx, w);
             }));
  router.add(Method::kGet, "/api/v1/tokens", with(admin, [&ctx](Request& r, const ApiToken&) {
               HostResult<std::vector<ApiToken>> tokens = ctx.fleet.tokens();
               if (!tokens.ok()) return error_response(tokens.error());
               const UnixTime now = ctx.now();
               return ok_json(
                   {{"tokens", page_json(r, *tokens,
                                         [now](const ApiToken& t) { return token_json(t, now); })},
                    {"total", tokens->size()}});
             }));
  router.add(Method::kDelete, "/api/v1/tokens/{id}",
             with(admin, [&ctx](Request& r, const ApiToken& w) {
               HostResult<std::int64_t> id = id_param(r, "token");
               if (!id.ok()) return error_response(id.error());
               const UnixTime now = ctx.now();
               HostResult<ApiToken> revoked = ctx.fleet.revoke_token(TokenId{*id}, w.name, now);
               if (!revoked.ok()) return error_response(revoked.error());
               return ok_json(token_json(*revoked, now));
             }));

  // EventSource cannot send headers: the console first trades its token for a
  // ticket (single-use, 60 s) and opens the stream with ?ticket=.
  router.add(
      Method::kPost, "/api/v1/events/ticket", with(viewer, [&ctx](Request&, const ApiToken& w) {
        HostResult<EventTicket> ticket = ctx.fleet.issue_event_ticket(w, ctx.now());
        if (!ticket.ok()) return error_response(ticket.error());
        return ok_json({{"ticket", ticket->ticket}, {"expires_at", ticket->expires_at}}, 201);
      }));
  router.add(Method::kGet, "/api/v1/events", guarded([&ctx, &auth](Request& r) {
               const auto ticket = r.query.find("ticket");
               HostResult<ApiToken> who =
                   ticket != r.query.end()
                       ? ctx.fleet.redeem_event_ticket(ticket->second, Role::kViewer, ctx.now())
                       : auth.require(r, Role::kViewer);
               if (!who.ok()) return error_response(who.error());
               Response response;
               response.event_stream = [&ctx](std::shared_ptr<EventSink> sink) {
                 ctx.events.subscribe(std::move(sink));
               };
               return response;
             }));
}

}  // namespace updraft::server::api
