#include "server/services/fleet_service.h"

#include <algorithm>

#include "crypto/constant_time.h"
#include "manifest/manifest.h"
#include "server/model/names.h"
#include "server/services/audit_log.h"

namespace updraft::server {
namespace {

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }

// The field that carries a device's id in each registrar's API.
const char* id_field(Registrar registrar) {
  switch (registrar) {
    case Registrar::kOperator:
      return "id";
    case Registrar::kSelf:
      return "device_id";
    case Registrar::kDdiGateway:
      return "controllerId";
    case Registrar::kEnos:
      return "assetId";
  }
  return "id";
}

const char* audit_action(Registrar registrar) {
  switch (registrar) {
    case Registrar::kOperator:
      return "device.register";
    case Registrar::kSelf:
      return "device.self_register";
    case Registrar::kDdiGateway:
      return "device.ddi_register";
    case Registrar::kEnos:
      return "device.enos_register";
  }
  return "device.register";
}

}  // namespace

bool valid_device_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_hardware_id(std::string_view hardware) {
  return manifest::valid_id_text(hardware, manifest::kMaxHardwareIdSize);
}

bool valid_product_name(std::string_view name) {
  return manifest::valid_id_text(name, manifest::kMaxProductSize);
}

bool valid_serial(std::string_view serial) { return manifest::valid_id_text(serial, 64); }

// --- Products.

namespace {

// "retry" or "full-image" into `out`; false for anything else.
bool parse_while_delta_builds(const std::string& text, WhileDeltaBuilds& out) {
  if (text == "retry") {
    out = WhileDeltaBuilds::kRetry;
  } else if (text == "full-image") {
    out = WhileDeltaBuilds::kFullImage;
  } else {
    return false;
  }
  return true;
}

}  // namespace

HostResult<NewProduct> FleetService::create_product(const ProductSpec& spec,
                                                    const std::string& actor, UnixTime now) {
  if (!valid_product_name(spec.name))
    return bad("name: 1..32 printable ASCII characters without spaces");
  const delta::ProfileInfo* info = delta::find_profile(spec.profile);
  if (info == nullptr) return bad("profile: one of mcu-tiny, mcu, linux");
  if (spec.sector_size == 0) return bad("sector_size: must be positive");
  NewProduct out;
  out.provisioning_secret = spec.provisioning_secret;
  if (out.provisioning_secret == "generate") {
    UPDRAFT_TRY_ASSIGN(out.provisioning_secret, random_secret());
  }
  if (!out.provisioning_secret.empty() && out.provisioning_secret.size() < 16)
    return bad("provisioning_secret: at least 16 characters, or \"generate\"");

  Product p;
  p.name = spec.name;
  p.profile = info->profile;
  if (!parse_while_delta_builds(spec.while_delta_builds, p.while_delta_builds)) {
    return bad("while_delta_builds: \"retry\" or \"full-image\"");
  }
  p.delta_budget_seconds = spec.delta_budget_seconds;
  p.slot_size = spec.slot_size;
  p.sector_size = spec.sector_size;
  if (!out.provisioning_secret.empty())
    p.provisioning_secret_hash = secret_hash(out.provisioning_secret);
  p.created_at = now;
  HostResult<Product> created = store_.create_product(p);
  if (!created.ok()) {
    if (created.error().code == ErrorCode::kStoreConflict)
      return Error(ErrorCode::kApiConflict, "product " + p.name + " exists");
    return created.error();
  }
  out.product = *created;
  (void)append_audit(store_, now, actor, "product.create",
                     "product/" + std::to_string(created->id.value), {{"name", p.name}});
  return out;
}

HostResult<Product> FleetService::update_product(const std::string& name,
                                                 const ProductChanges& changes,
                                                 const std::string& actor, UnixTime now) {
  Product p;
  std::map<std::string, std::string> audited;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(p, product(name));
    if (changes.while_delta_builds) {
      if (!parse_while_delta_builds(*changes.while_delta_builds, p.while_delta_builds)) {
        return bad("while_delta_builds: \"retry\" or \"full-image\"");
      }
      audited["while_delta_builds"] = *changes.while_delta_builds;
    }
    if (changes.delta_budget_seconds) {
      p.delta_budget_seconds = *changes.delta_budget_seconds;
      audited["delta_budget_seconds"] = std::to_string(p.delta_budget_seconds);
    }
    UPDRAFT_TRY(store_.update_product(p));
    audited["name"] = p.name;
    return append_audit(store_, now, actor, "product.update",
                        "product/" + std::to_string(p.id.value), audited);
  }));
  return p;
}

HostResult<std::vector<Product>> FleetService::products() { return store_.products(); }

HostResult<Product> FleetService::remove_product(const std::string& name, const std::string& actor,
                                                 UnixTime now) {
  Product removed;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(removed, product(name));
    DeviceFilter filter;
    filter.product = removed.id;
    UPDRAFT_TRY_ASSIGN(const std::size_t devices, store_.count_devices(filter));
    UPDRAFT_TRY_ASSIGN(const std::vector<Release> releases, store_.releases(removed.id));
    UPDRAFT_TRY_ASSIGN(const std::vector<Campaign> all, store_.campaigns());
    const auto campaigns = std::count_if(
        all.begin(), all.end(), [&](const Campaign& c) { return c.product == removed.id; });
    if (devices + releases.size() + static_cast<std::size_t>(campaigns) > 0) {
      return Error(ErrorCode::kApiConflict, "product " + name + " has " + std::to_string(devices) +
                                                " devices, " + std::to_string(releases.size()) +
                                                " releases and " + std::to_string(campaigns) +
                                                " campaigns: only an empty product can be deleted");
    }
    UPDRAFT_TRY(store_.delete_product(removed.id));
    return append_audit(store_, now, actor, "product.delete",
                        "product/" + std::to_string(removed.id.value), {{"name", name}});
  }));
  return removed;
}

HostResult<Product> FleetService::product(const std::string& name) {
  HostResult<Product> found = store_.product_by_name(name);
  if (!found.ok() && found.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no product " + name);
  return found;
}

HostResult<Product> FleetService::product(ProductId id) {
  HostResult<Product> found = store_.product(id);
  if (!found.ok() && found.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no product " + std::to_string(id.value));
  return found;
}

// --- Devices.

HostResult<NewDevice> FleetService::register_device(const DeviceSpec& spec, Registrar registrar,
                                                    const std::string& actor, UnixTime now,
                                                    std::string_view provisioning_secret) {
  HostResult<Product> product = store_.product_by_name(spec.product);
  if (registrar == Registrar::kSelf &&
      (!product.ok() || product->provisioning_secret_hash.empty() ||
       !secret_matches(provisioning_secret, product->provisioning_secret_hash))) {
    return Error(ErrorCode::kApiUnauthorized, "unknown product or wrong provisioning secret");
  }
  if (!product.ok()) {
    if (product.error().code == ErrorCode::kStoreNotFound) return bad("product: no such product");
    return product.error();
  }
  if (!valid_device_id(spec.id.value))
    return bad(std::string(id_field(registrar)) + ": 1..64 of [A-Za-z0-9._:-]");
  if (!valid_hardware_id(spec.hardware))
    return bad("hardware: 1..32 printable ASCII characters without spaces");
  if (!spec.serial.empty() && !valid_serial(spec.serial))
    return bad("serial: 1..64 printable ASCII characters without spaces");
  if (spec.tags.size() > 64) return bad("tags: at most 64");
  for (const std::string& tag : spec.tags) {
    if (tag.empty() || tag.size() > 64) return bad("tags: each 1..64 characters");
  }

  NewDevice out;
  out.device.id = spec.id;
  out.device.product = product->id;
  out.device.hardware = spec.hardware;
  out.device.tags = spec.tags;
  out.device.serial = spec.serial;
  out.device.registered_at = now;
  const bool proves_with_secret =
      registrar == Registrar::kOperator || registrar == Registrar::kSelf;
  if (registrar == Registrar::kEnos && spec.serial.empty()) return bad("serialNum: required");
  if (proves_with_secret) {
    // A self-registering device always gets a fresh secret: the provisioning
    // secret is shared by the whole product.
    out.secret = registrar == Registrar::kOperator ? spec.secret : std::string();
    if (out.secret.empty()) {
      UPDRAFT_TRY_ASSIGN(out.secret, random_secret());
    } else if (out.secret.size() < 16) {
      return bad("secret: at least 16 characters (or leave it out to have one generated)");
    }
    out.device.secret_hash = secret_hash(out.secret);
  }
  HostResult<void> created = store_.create_device(out.device);
  if (!created.ok()) {
    if (created.error().code != ErrorCode::kStoreConflict) return created.error();
    if (!spec.serial.empty()) {
      HostResult<std::optional<Device>> holder = device_by_serial(spec.serial);
      if (holder.ok() && *holder && (*holder)->id != spec.id)
        return Error(ErrorCode::kApiConflict, "serial " + spec.serial + " is another device's");
    }
    if (proves_with_secret)
      return Error(ErrorCode::kApiConflict, "device " + spec.id.value + " is registered");
    // A parallel first poll registered it a moment ago: that is the same device.
    UPDRAFT_TRY_ASSIGN(out.device, store_.device(spec.id));
    return out;
  }
  (void)append_audit(store_, now, actor, audit_action(registrar), "device/" + spec.id.value,
                     {{"product", product->name}, {"hardware", spec.hardware}});
  return out;
}

HostResult<Device> FleetService::device(const DeviceId& id) {
  HostResult<Device> found = store_.device(id);
  if (!found.ok() && found.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no device " + id.value);
  return found;
}

HostResult<std::optional<Device>> FleetService::device_by_serial(const std::string& serial) {
  if (serial.empty()) return std::optional<Device>();
  DeviceFilter filter;
  filter.serial = serial;
  filter.limit = 1;
  UPDRAFT_TRY_ASSIGN(std::vector<Device> found, store_.devices(filter));
  if (found.empty()) return std::optional<Device>();
  return std::optional<Device>(std::move(found.front()));
}

HostResult<DevicePage> FleetService::devices(const DeviceQuery& query) {
  DevicePage page;
  DeviceFilter filter = query.filter;
  if (!query.product.empty()) {
    HostResult<Product> product = store_.product_by_name(query.product);
    if (!product.ok()) {
      if (product.error().code == ErrorCode::kStoreNotFound) return page;
      return product.error();
    }
    filter.product = product->id;
  }
  if (!query.state.empty()) {
    filter.state = from_name<DeploymentState>(query.state);
    if (!filter.state) return bad("state: not a deployment state");
  }
  if (!filter.id_prefix.empty() && !valid_device_id(filter.id_prefix))
    return bad("id: a device id prefix (letters, digits, '.', '_', ':', '-')");
  // Filtered and counted in the store: `total` counts the rows the pages hold.
  UPDRAFT_TRY_ASSIGN(std::vector<Device> devices, store_.devices(filter));
  UPDRAFT_TRY_ASSIGN(page.total, store_.count_devices(filter));
  for (Device& d : devices) {
    DeviceRow row;
    HostResult<Deployment> open = store_.open_deployment(d.id);
    if (open.ok()) row.open = *open;
    // The latest deployment in any state, so a list can show a device's last error
    // after its campaign ended (the open one is gone by then).
    UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, deployments_of(d.id));
    if (!all.empty()) row.latest = all.back();
    row.device = std::move(d);
    page.devices.push_back(std::move(row));
  }
  return page;
}

HostResult<std::vector<Deployment>> FleetService::deployments_of(const DeviceId& id) {
  DeploymentFilter filter;
  filter.device = id;
  return store_.deployments(filter);
}

HostResult<HistoryPage> FleetService::history(const DeviceId& id, std::size_t limit,
                                              std::size_t offset) {
  UPDRAFT_TRY(device(id));
  return store_.device_history(id, limit, offset);
}

HostResult<LogPage> FleetService::deployment_log(DeploymentId id, std::size_t limit,
                                                 std::size_t offset) {
  HostResult<LogPage> page = store_.deployment_log(id, limit, offset);
  if (!page.ok() && page.error().code == ErrorCode::kStoreNotFound)
    return Error(ErrorCode::kApiNotFound, "no deployment " + std::to_string(id.value));
  return page;
}

HostResult<Device> FleetService::set_tags(const DeviceId& id, const std::vector<std::string>& tags,
                                          const std::string& actor, UnixTime now) {
  if (tags.size() > 64) return bad("tags: at most 64");
  for (const std::string& tag : tags) {
    if (tag.empty() || tag.size() > 64) return bad("tags: each 1..64 characters");
  }
  if (HostResult<void> r = store_.set_device_tags(id, tags); !r.ok()) {
    if (r.error().code == ErrorCode::kStoreNotFound)
      return Error(ErrorCode::kApiNotFound, "no device " + id.value);
    return r.error();
  }
  (void)append_audit(store_, now, actor, "device.tags", "device/" + id.value, {{"tags", tags}});
  return device(id);
}

HostResult<Device> FleetService::set_serial(const DeviceId& id, const std::string& serial,
                                            const std::string& actor, UnixTime now) {
  if (!serial.empty() && !valid_serial(serial))
    return bad("serial: 1..64 printable ASCII characters without spaces");
  if (HostResult<void> r = store_.set_device_serial(id, serial); !r.ok()) {
    if (r.error().code == ErrorCode::kStoreNotFound)
      return Error(ErrorCode::kApiNotFound, "no device " + id.value);
    if (r.error().code == ErrorCode::kStoreConflict)
      return Error(ErrorCode::kApiConflict, "serial " + serial + " is another device's");
    return r.error();
  }
  (void)append_audit(store_, now, actor, "device.serial", "device/" + id.value,
                     {{"serial", serial}});
  return device(id);
}

HostResult<NewDevice> FleetService::rotate_device_secret(const DeviceId& id,
                                                         const std::string& secret,
                                                         const std::string& actor, UnixTime now) {
  NewDevice out;
  out.secret = secret;
  if (out.secret.empty()) {
    UPDRAFT_TRY_ASSIGN(out.secret, random_secret());
  } else if (out.secret.size() < 16) {
    return bad("secret: at least 16 characters (or leave it out to have one generated)");
  }
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(const Device before, device(id));
    if (before.decommissioned_at != 0)
      return Error(ErrorCode::kApiConflict, "device " + id.value + " is decommissioned");
    UPDRAFT_TRY(store_.set_device_secret(id, secret_hash(out.secret)));
    UPDRAFT_TRY_ASSIGN(out.device, store_.device(id));
    return append_audit(store_, now, actor, "device.rotate_secret", "device/" + id.value,
                        {{"token_generation", out.device.token_generation}});
  }));
  // After the commit, so the cache never runs ahead of the store; from here on
  // the old tokens are refused.
  note_ended_tokens({id, out.device.token_generation, false});
  return out;
}

HostResult<DecommissionedDevice> FleetService::decommission_device(const DeviceId& id,
                                                                   const std::string& actor,
                                                                   UnixTime now) {
  DecommissionedDevice out;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(const Device before, device(id));
    if (before.decommissioned_at != 0) {
      return Error(ErrorCode::kApiConflict, "device " + id.value + " was decommissioned at " +
                                                std::to_string(before.decommissioned_at));
    }
    UPDRAFT_TRY(store_.decommission_device(id, now));
    // Every unfinished deployment, not only the one in a running campaign: a
    // draft's would otherwise be released to a device that can no longer come.
    UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, deployments_of(id));
    for (Deployment& d : all) {
      if (is_final(d.state)) continue;
      d.state = DeploymentState::kCanceled;
      d.message = "device decommissioned";
      d.updated_at = d.finished_at = now;
      UPDRAFT_TRY(store_.update_deployment(d));
      out.canceled.push_back(d);
    }
    UPDRAFT_TRY_ASSIGN(out.device, store_.device(id));
    std::vector<std::int64_t> canceled;
    for (const Deployment& d : out.canceled) canceled.push_back(d.id.value);
    return append_audit(store_, now, actor, "device.decommission", "device/" + id.value,
                        {{"canceled_deployments", canceled}});
  }));
  note_ended_tokens({id, out.device.token_generation, true});
  return out;
}

HostResult<DeviceToken> FleetService::issue_device_token(const DeviceId& id,
                                                         std::string_view secret, UnixTime now) {
  HostResult<Device> found = store_.device(id);
  // One answer for unknown device and wrong secret: no probing for ids. A
  // decommissioned device has no secret left; the check says why all the same.
  if (!found.ok() || found->secret_hash.empty() || found->decommissioned_at != 0 ||
      !secret_matches(secret, found->secret_hash))
    return Error(ErrorCode::kApiUnauthorized, "unknown device or wrong secret");
  DeviceToken out;
  out.expires_at = now + device_token_seconds_;
  out.token = device_tokens_.issue(found->id, found->token_generation, out.expires_at);
  return out;
}

HostResult<DeviceId> FleetService::authenticate_device(std::string_view token, UnixTime now) {
  if (token.empty())
    return Error(ErrorCode::kApiUnauthorized, "a device token is required (Authorization: Bearer)");
  UPDRAFT_TRY_ASSIGN(DeviceTokenClaims claims, device_tokens_.verify(token, now));
  UPDRAFT_TRY(load_ended_tokens());
  DeviceTokenState current{claims.device, 0, false};
  {
    std::lock_guard lock(ended_tokens_mutex_);
    const auto it = ended_tokens_.find(claims.device);
    if (it != ended_tokens_.end()) current = it->second;
  }
  if (current.decommissioned || claims.generation != current.generation) {
    return Error(ErrorCode::kApiUnauthorized,
                 "device token was ended (secret replaced or device decommissioned)");
  }
  return std::move(claims.device);
}

HostResult<void> FleetService::load_ended_tokens() {
  {
    std::lock_guard lock(ended_tokens_mutex_);
    if (ended_tokens_loaded_) return {};
  }
  // Read without the lock (the store has its own); a parallel first check may
  // read too, and merging is idempotent.
  UPDRAFT_TRY_ASSIGN(const std::vector<DeviceTokenState> ended, store_.ended_device_tokens());
  for (const DeviceTokenState& state : ended) note_ended_tokens(state);
  std::lock_guard lock(ended_tokens_mutex_);
  ended_tokens_loaded_ = true;
  return {};
}

void FleetService::note_ended_tokens(const DeviceTokenState& state) {
  std::lock_guard lock(ended_tokens_mutex_);
  auto [it, inserted] = ended_tokens_.try_emplace(state.device, state);
  if (inserted) return;
  it->second.generation = std::max(it->second.generation, state.generation);
  it->second.decommissioned = it->second.decommissioned || state.decommissioned;
}

// --- Admin API tokens.

HostResult<NewToken> FleetService::create_token(const std::string& name, std::string_view role,
                                                const std::string& actor, UnixTime now,
                                                UnixTime expires_at) {
  if (name.empty() || name.size() > 64) return bad("name: 1..64 characters");
  const std::optional<Role> parsed = from_name<Role>(role);
  if (!parsed) return bad("role: viewer, operator or admin");
  if (expires_at != 0 && expires_at <= now) return bad("expires_at: must be in the future");
  NewToken out;
  UPDRAFT_TRY_ASSIGN(out.secret, random_secret());
  ApiToken t;
  t.name = name;
  t.role = *parsed;
  t.token_sha256 = secret_hash(out.secret);
  t.created_at = now;
  t.expires_at = expires_at;
  UPDRAFT_TRY_ASSIGN(out.token, store_.create_token(t));
  (void)append_audit(store_, now, actor, "token.create",
                     "token/" + std::to_string(out.token.id.value),
                     {{"name", name}, {"role", name_of(t.role)}, {"expires_at", expires_at}});
  return out;
}

HostResult<std::vector<ApiToken>> FleetService::tokens() { return store_.tokens(); }

HostResult<ApiToken> FleetService::revoke_token(TokenId id, const std::string& actor,
                                                UnixTime now) {
  ApiToken token;
  UPDRAFT_TRY(store_.transaction([&]() -> HostResult<void> {
    HostResult<ApiToken> found = store_.token(id);
    if (!found.ok()) {
      if (found.error().code == ErrorCode::kStoreNotFound)
        return Error(ErrorCode::kApiNotFound, "no token " + std::to_string(id.value));
      return found.error();
    }
    token = *found;
    if (token.revoked_at != 0) return {};
    if (token.role == Role::kAdmin && is_active(token, now)) {
      UPDRAFT_TRY_ASSIGN(const std::vector<ApiToken> all, store_.tokens());
      const bool another = std::any_of(all.begin(), all.end(), [&](const ApiToken& t) {
        return t.id != id && t.role == Role::kAdmin && is_active(t, now);
      });
      if (!another) {
        return Error(ErrorCode::kApiConflict,
                     "token " + std::to_string(id.value) +
                         " is the last active admin token: create another admin token first");
      }
    }
    UPDRAFT_TRY(store_.revoke_token(id, now));
    token.revoked_at = now;
    return append_audit(store_, now, actor, "token.revoke", "token/" + std::to_string(id.value),
                        {{"name", token.name}, {"role", name_of(token.role)}});
  }));
  forget_token(id);
  return token;
}

void FleetService::forget_token(TokenId id) {
  std::lock_guard lock(token_cache_mutex_);
  ++revocations_;
  std::erase_if(token_cache_, [id](const auto& entry) { return entry.second.id == id; });
}

HostResult<ApiToken> FleetService::authorize(std::string_view secret, Role role, UnixTime now) {
  if (secret.empty())
    return Error(ErrorCode::kApiUnauthorized,
                 "an admin API token is required (Authorization: Bearer)");
  return authorize_hash(secret_hash(secret), role, now);
}

HostResult<ApiToken> FleetService::authorize_hash(const std::string& hash, Role role,
                                                  UnixTime now) {
  std::optional<ApiToken> found;
  std::uint64_t revocations = 0;
  {
    std::lock_guard lock(token_cache_mutex_);
    const auto it = token_cache_.find(hash);
    if (it != token_cache_.end()) found = it->second;
    revocations = revocations_;
  }
  if (!found) {
    HostResult<ApiToken> stored = store_.token_by_hash(hash);
    if (!stored.ok()) {
      if (stored.error().code == ErrorCode::kStoreNotFound)
        return Error(ErrorCode::kApiUnauthorized, "unknown admin API token");
      return stored.error();
    }
    found = *stored;
    std::lock_guard lock(token_cache_mutex_);
    // A revocation that committed after the read found nothing to erase here: a
    // copy read before it must not be cached (the next request reads again).
    if (revocations == revocations_) token_cache_.try_emplace(hash, *found);
  }
  if (found->revoked_at != 0)
    return Error(ErrorCode::kApiUnauthorized, "token \"" + found->name + "\" was revoked");
  if (!is_active(*found, now))
    return Error(ErrorCode::kApiUnauthorized, "token \"" + found->name + "\" expired");
  if (static_cast<int>(found->role) < static_cast<int>(role))
    return Error(ErrorCode::kApiForbidden, "token \"" + found->name + "\" may not do this");
  if (now - found->last_used_at >= kLastUseResolutionSeconds) {
    bool claimed = false;
    {
      // One request per token and minute writes; the others see the claim.
      std::lock_guard lock(token_cache_mutex_);
      const auto it = token_cache_.find(hash);
      if (it != token_cache_.end() && now - it->second.last_used_at >= kLastUseResolutionSeconds) {
        it->second.last_used_at = now;
        claimed = true;
      }
    }
    // Best effort: a lost write only makes the shown last use older.
    if (claimed) (void)store_.set_token_last_used(found->id, now);
    found->last_used_at = now;
  }
  return *found;
}

// A ticket is 96 hex digits: a 128-bit nonce, the expiry and the token's id (64
// bits each), and a 128-bit MAC over them under the key every server on the
// database shares, so any node redeems what another issued (the console's stream
// may land on another node than its ticket request). Nothing in it is secret but
// the MAC; it names no token secret or hash.
namespace {

constexpr std::size_t kTicketBody = 64, kTicketMac = 32;

std::string hex64(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

}  // namespace

HostResult<EventTicket> FleetService::issue_event_ticket(const ApiToken& who, UnixTime now) {
  EventTicket out;
  UPDRAFT_TRY_ASSIGN(std::string body, random_secret());
  body.resize(32);
  out.expires_at = now + kEventTicketSeconds;
  body += hex64(static_cast<std::uint64_t>(out.expires_at));
  body += hex64(static_cast<std::uint64_t>(who.id.value));
  out.ticket = body + device_tokens_.mac("event-ticket:" + body).substr(0, kTicketMac);
  return out;
}

HostResult<ApiToken> FleetService::redeem_event_ticket(std::string_view ticket, Role role,
                                                       UnixTime now) {
  const Error refused(ErrorCode::kApiUnauthorized, "unknown, spent or expired event ticket");
  if (ticket.size() != kTicketBody + kTicketMac ||
      ticket.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return refused;
  }
  const std::string body(ticket.substr(0, kTicketBody));
  const std::string expected = device_tokens_.mac("event-ticket:" + body).substr(0, kTicketMac);
  const std::string_view given = ticket.substr(kTicketBody);
  if (!constant_time_equal(as_bytes_view(given.data(), given.size()),
                           as_bytes_view(expected.data(), expected.size()))) {
    return refused;
  }
  const auto expires_at = static_cast<UnixTime>(std::stoull(body.substr(32, 16), nullptr, 16));
  const auto token_id = static_cast<std::int64_t>(std::stoull(body.substr(48, 16), nullptr, 16));
  if (expires_at <= now) return refused;
  {
    // Spent here; a node keeps what it has seen until it expires.
    std::lock_guard lock(tickets_mutex_);
    std::erase_if(spent_tickets_, [now](const auto& entry) { return entry.second <= now; });
    if (!spent_tickets_.emplace(body.substr(0, 32), expires_at).second) return refused;
  }
  // The token may have been revoked since the ticket was issued.
  HostResult<ApiToken> token = store_.token(TokenId{token_id});
  if (!token.ok()) {
    if (token.error().code == ErrorCode::kStoreNotFound) return refused;
    return token.error();
  }
  return authorize_hash(token->token_sha256, role, now);
}

HostResult<std::vector<AuditEvent>> FleetService::audit(std::size_t limit, std::int64_t before_id) {
  return store_.audit(limit, before_id);
}

HostResult<std::optional<std::string>> FleetService::bootstrap_admin_token(UnixTime now) {
  UPDRAFT_TRY_ASSIGN(std::vector<ApiToken> existing, store_.tokens());
  if (std::any_of(existing.begin(), existing.end(), [now](const ApiToken& t) {
        return t.role == Role::kAdmin && is_active(t, now);
      })) {
    return std::optional<std::string>();
  }
  UPDRAFT_TRY_ASSIGN(std::string secret, random_secret());
  ApiToken token;
  token.name = "admin";
  token.role = Role::kAdmin;
  token.token_sha256 = secret_hash(secret);
  token.created_at = now;
  UPDRAFT_TRY(store_.create_token(token));
  return std::optional<std::string>(std::move(secret));
}

}  // namespace updraft::server
