#include "server/storage/sql/sql_store.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "server/storage/postgres/connection.h"
#include "server/storage/sqlite/database.h"

namespace updraft::server {
namespace {

using Json = nlohmann::json;

// Runs `body` and prefixes an error with the record it concerns, so every
// message names it: "device 'a1': not found".
template <typename Body>
auto about(const std::string& record, Body&& body) -> decltype(body()) {
  auto result = body();
  if (result.ok()) return result;
  Error error = std::move(result).error();
  error.message = record + ": " + error.message;
  return error;
}

Error not_found() { return Error(ErrorCode::kStoreNotFound, "not found"); }

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// SQLite takes a signed 64-bit LIMIT and OFFSET.
std::int64_t sql_count(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

// The first row of `statement` as `read` makes it, or kStoreNotFound.
template <typename Stmt, typename Read>
auto one(Stmt& statement, Read read) -> decltype(read(statement)) {
  UPDRAFT_TRY_ASSIGN(const bool row, statement.step());
  if (!row) return not_found();
  return read(statement);
}

// Every row of `statement` as `read` makes it.
template <typename Stmt, typename Read>
auto all(Stmt& statement, Read read)
    -> HostResult<std::vector<std::decay_t<decltype(read(statement).value())>>> {
  std::vector<std::decay_t<decltype(read(statement).value())>> rows;
  for (;;) {
    UPDRAFT_TRY_ASSIGN(const bool row, statement.step());
    if (!row) return rows;
    UPDRAFT_TRY_ASSIGN(auto value, read(statement));
    rows.push_back(std::move(value));
  }
}

// The id an INSERT ... RETURNING id gave the new row.
template <typename Stmt>
HostResult<std::int64_t> inserted_id(Stmt& statement) {
  UPDRAFT_TRY_ASSIGN(const bool row, statement.step());
  if (!row) return Error(ErrorCode::kStoreIo, "INSERT returned no id");
  return statement.template column<std::int64_t>(0);
}

// nlohmann throws; the store does not. Text that cannot be encoded (invalid
// UTF-8) is the caller's error, stored text that does not decode is corruption.
template <typename F>
auto with_json(ErrorCode code, F&& f) -> HostResult<decltype(f())> {
  try {
    return f();
  } catch (const Json::exception& e) {
    return Error(code, e.what());
  }
}

std::string encode_target(const TargetSelector& target) {
  std::vector<std::string> devices;
  for (const DeviceId& id : target.devices) devices.push_back(id.value);
  return Json{{"hardware", target.hardware},
              {"versions", target.versions},
              {"tags", target.tags},
              {"devices", devices},
              {"inventory", target.inventory}}
      .dump();
}

TargetSelector decode_target(const std::string& text) {
  const Json json = Json::parse(text);
  TargetSelector target;
  json.at("hardware").get_to(target.hardware);
  json.at("versions").get_to(target.versions);
  json.at("tags").get_to(target.tags);
  for (const Json& id : json.at("devices"))
    target.devices.push_back(DeviceId{id.get<std::string>()});
  // Targets stored before issue 18 have no inventory.
  if (json.contains("inventory")) json.at("inventory").get_to(target.inventory);
  return target;
}

std::string encode_phases(const std::vector<PhaseSpec>& phases) {
  Json json = Json::array();
  for (const PhaseSpec& phase : phases) {
    json.push_back(Json{{"kind", static_cast<int>(phase.kind)}, {"amount", phase.amount}});
  }
  return json.dump();
}

std::vector<PhaseSpec> decode_phases(const std::string& text) {
  std::vector<PhaseSpec> phases;
  for (const Json& item : Json::parse(text)) {
    phases.push_back(PhaseSpec{static_cast<PhaseSpec::Kind>(item.at("kind").get<int>()),
                               item.at("amount").get<std::uint32_t>()});
  }
  return phases;
}

std::string encode_window(const MaintenanceWindow& window) {
  return Json{{"start_minute", window.start_minute},
              {"end_minute", window.end_minute},
              {"timezone", window.timezone}}
      .dump();
}

MaintenanceWindow decode_window(const std::string& text) {
  const Json json = Json::parse(text);
  return MaintenanceWindow{json.at("start_minute").get<std::uint16_t>(),
                           json.at("end_minute").get<std::uint16_t>(),
                           json.at("timezone").get<std::string>()};
}

// Each entity: its columns in table order, a reader for a row of them and a
// binder of every column but the id as ?1, ?2, ... in the same order.

constexpr char kSelectProduct[] =
    "SELECT id, name, profile, slot_size, sector_size, provisioning_secret_hash, created_at, "
    "while_delta_builds, delta_budget_seconds FROM products";

template <typename Row>
HostResult<Product> read_product(const Row& s) {
  Product product;
  product.id.value = s.template column<std::int64_t>(0);
  product.name = s.template column<std::string>(1);
  product.profile = s.template column<delta::Profile>(2);
  product.slot_size = s.template column<std::uint32_t>(3);
  product.sector_size = s.template column<std::uint32_t>(4);
  product.provisioning_secret_hash = s.template column<std::string>(5);
  product.created_at = s.template column<UnixTime>(6);
  product.while_delta_builds = s.template column<WhileDeltaBuilds>(7);
  product.delta_budget_seconds = s.template column<std::uint32_t>(8);
  return product;
}

template <typename Stmt>
void bind_product(Stmt& s, const Product& product) {
  s.bind(1, product.name)
      .bind(2, product.profile)
      .bind(3, product.slot_size)
      .bind(4, product.sector_size)
      .bind(5, product.provisioning_secret_hash)
      .bind(6, product.created_at)
      .bind(7, product.while_delta_builds)
      .bind(8, product.delta_budget_seconds);
}

constexpr char kSelectDevice[] =
    "SELECT id, product_id, hardware, secret_hash, version, image_sha256, slot, battery_percent, "
    "network, last_seen, registered_at, serial, token_generation, decommissioned_at FROM devices";

// Everything but the tags, which live in their own table.
template <typename Row>
HostResult<Device> read_device(const Row& s) {
  Device device;
  device.id.value = s.template column<std::string>(0);
  device.product.value = s.template column<std::int64_t>(1);
  device.hardware = s.template column<std::string>(2);
  device.secret_hash = s.template column<std::string>(3);
  device.status.version = s.template column<std::string>(4);
  device.status.image_sha256 = s.template column<std::string>(5);
  device.status.slot = s.template column<int>(6);
  device.status.battery_percent = s.template column<int>(7);
  device.status.network = s.template column<std::string>(8);
  device.status.last_seen = s.template column<UnixTime>(9);
  device.registered_at = s.template column<UnixTime>(10);
  device.serial = s.template column<std::string>(11);
  device.token_generation = s.template column<std::uint32_t>(12);
  device.decommissioned_at = s.template column<UnixTime>(13);
  return device;
}

// Parameter numbers are fixed per field (?1..?5; paging takes ?6 and ?7), so one
// statement text per combination of filters is prepared once and cached.
std::string device_where(const DeviceFilter& filter) {
  std::string where = " WHERE TRUE";
  if (filter.product) where += " AND product_id = ?1";
  if (!filter.hardware.empty()) where += " AND hardware = ?2";
  if (!filter.version.empty()) where += " AND version = ?3";
  if (!filter.tag.empty()) where += " AND id IN (SELECT device_id FROM device_tags WHERE tag = ?4)";
  if (!filter.serial.empty()) where += " AND serial = ?5";
  // A range on the primary key rather than LIKE, so that the index serves it.
  if (!filter.id_prefix.empty()) where += " AND id >= ?8 AND id < ?9";
  if (filter.state) {
    where +=
        " AND id IN (SELECT device_id FROM deployments d WHERE d.state = ?10 AND d.id = "
        "(SELECT MAX(id) FROM deployments l WHERE l.device_id = d.device_id))";
  }
  if (filter.seen_after) where += " AND last_seen >= ?11";
  if (filter.seen_before) where += " AND last_seen < ?12";
  return where;
}

// The least string above every string that starts with `prefix` (device ids are
// ASCII, so raising the last byte keeps it valid text).
std::string prefix_end(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

template <typename Stmt>
void bind_device_filter(Stmt& s, const DeviceFilter& filter) {
  if (filter.product) s.bind(1, filter.product->value);
  if (!filter.hardware.empty()) s.bind(2, filter.hardware);
  if (!filter.version.empty()) s.bind(3, filter.version);
  if (!filter.tag.empty()) s.bind(4, filter.tag);
  if (!filter.serial.empty()) s.bind(5, filter.serial);
  if (!filter.id_prefix.empty()) s.bind(8, filter.id_prefix).bind(9, prefix_end(filter.id_prefix));
  if (filter.state) s.bind(10, *filter.state);
  if (filter.seen_after) s.bind(11, *filter.seen_after);
  if (filter.seen_before) s.bind(12, *filter.seen_before);
}

constexpr char kSelectRelease[] =
    "SELECT id, product_id, version, security_counter, hardware, allow_downgrade, size, sha256, "
    "notes, created_at, enos_version, mender_artifact_name FROM releases";

template <typename Row>
HostResult<Release> read_release(const Row& s) {
  Release release;
  release.id.value = s.template column<std::int64_t>(0);
  release.product.value = s.template column<std::int64_t>(1);
  release.version = s.template column<std::string>(2);
  release.security_counter = s.template column<std::uint32_t>(3);
  release.allow_downgrade = s.template column<bool>(5);
  release.size = s.template column<std::uint64_t>(6);
  release.sha256 = s.template column<std::string>(7);
  release.notes = s.template column<std::string>(8);
  release.created_at = s.template column<UnixTime>(9);
  release.enos_version = s.template column<std::string>(10);
  release.mender_artifact_name = s.template column<std::string>(11);
  UPDRAFT_TRY_ASSIGN(release.hardware, with_json(ErrorCode::kStoreCorrupt, [&] {
                       return Json::parse(s.template column<std::string>(4))
                           .template get<std::vector<std::string>>();
                     }));
  return release;
}

constexpr char kSelectDelta[] =
    "SELECT from_sha256, to_sha256, profile, state, size, error, hits, created_at, last_used_at, "
    "build_ms FROM deltas";

template <typename Row>
HostResult<DeltaRecord> read_delta(const Row& s) {
  DeltaRecord delta;
  delta.from_sha256 = s.template column<std::string>(0);
  delta.to_sha256 = s.template column<std::string>(1);
  delta.profile = s.template column<delta::Profile>(2);
  delta.state = s.template column<DeltaState>(3);
  delta.size = s.template column<std::uint64_t>(4);
  delta.error = s.template column<std::string>(5);
  delta.hits = s.template column<std::uint64_t>(6);
  delta.created_at = s.template column<UnixTime>(7);
  delta.last_used_at = s.template column<UnixTime>(8);
  delta.build_ms = s.template column<std::uint64_t>(9);
  return delta;
}

std::string delta_name(const std::string& from, const std::string& to, delta::Profile profile) {
  return "delta " + from + " -> " + to + " (" +
         std::string(delta::profile_name(static_cast<std::uint8_t>(profile))) + ")";
}

constexpr char kSelectCampaign[] =
    "SELECT id, name, product_id, release_id, target, phases, success_threshold, "
    "failure_threshold, maintenance_window, max_concurrent_downloads, force, state, "
    "current_phase, pause_reason, created_by, created_at, started_at, finished_at, "
    "allow_downgrade, deployment_timeout, start_at, dynamic FROM campaigns";

template <typename Row>
HostResult<Campaign> read_campaign(const Row& s) {
  Campaign campaign;
  campaign.id.value = s.template column<std::int64_t>(0);
  campaign.name = s.template column<std::string>(1);
  campaign.product.value = s.template column<std::int64_t>(2);
  campaign.release.value = s.template column<std::int64_t>(3);
  campaign.success_threshold = s.template column<double>(6);
  campaign.failure_threshold = s.template column<double>(7);
  campaign.max_concurrent_downloads = s.template column<std::uint32_t>(9);
  campaign.force = s.template column<bool>(10);
  campaign.state = s.template column<CampaignState>(11);
  campaign.current_phase = s.template column<std::uint32_t>(12);
  campaign.pause_reason = s.template column<std::string>(13);
  campaign.created_by = s.template column<std::string>(14);
  campaign.created_at = s.template column<UnixTime>(15);
  campaign.started_at = s.template column<UnixTime>(16);
  campaign.finished_at = s.template column<UnixTime>(17);
  campaign.allow_downgrade = s.template column<bool>(18);
  campaign.deployment_timeout_seconds = s.template column<std::uint32_t>(19);
  campaign.start_at = s.template column<UnixTime>(20);
  campaign.dynamic = s.template column<bool>(21);
  return with_json(ErrorCode::kStoreCorrupt, [&] {
    campaign.target = decode_target(s.template column<std::string>(4));
    campaign.phases = decode_phases(s.template column<std::string>(5));
    campaign.window = decode_window(s.template column<std::string>(8));
    return campaign;
  });
}

template <typename Stmt>
HostResult<void> bind_campaign(Stmt& s, const Campaign& campaign) {
  struct Encoded {
    std::string target, phases, window;
  };
  UPDRAFT_TRY_ASSIGN(const Encoded json, with_json(ErrorCode::kInvalidArgument, [&] {
                       return Encoded{encode_target(campaign.target),
                                      encode_phases(campaign.phases),
                                      encode_window(campaign.window)};
                     }));
  s.bind(1, campaign.name)
      .bind(2, campaign.product.value)
      .bind(3, campaign.release.value)
      .bind(4, json.target)
      .bind(5, json.phases)
      .bind(6, campaign.success_threshold)
      .bind(7, campaign.failure_threshold)
      .bind(8, json.window)
      .bind(9, campaign.max_concurrent_downloads)
      .bind(10, campaign.force)
      .bind(11, campaign.state)
      .bind(12, campaign.current_phase)
      .bind(13, campaign.pause_reason)
      .bind(14, campaign.created_by)
      .bind(15, campaign.created_at)
      .bind(16, campaign.started_at)
      .bind(17, campaign.finished_at)
      .bind(18, campaign.allow_downgrade)
      .bind(19, campaign.deployment_timeout_seconds)
      .bind(20, campaign.start_at)
      .bind(21, campaign.dynamic);
  return {};
}

constexpr char kSelectDeployment[] =
    "SELECT id, campaign_id, device_id, phase, state, progress, error, attempts, artifact_kind, "
    "from_sha256, message, created_at, updated_at, finished_at, channel, ignore_window, not_before "
    "FROM deployments";

template <typename Row>
HostResult<Deployment> read_deployment(const Row& s) {
  Deployment deployment;
  deployment.id.value = s.template column<std::int64_t>(0);
  deployment.campaign.value = s.template column<std::int64_t>(1);
  deployment.device.value = s.template column<std::string>(2);
  deployment.phase = s.template column<std::uint32_t>(3);
  deployment.state = s.template column<DeploymentState>(4);
  deployment.progress = s.template column<int>(5);
  deployment.error = s.template column<int>(6);
  deployment.attempts = s.template column<int>(7);
  deployment.artifact_kind = s.template column<std::string>(8);
  deployment.from_sha256 = s.template column<std::string>(9);
  deployment.message = s.template column<std::string>(10);
  deployment.created_at = s.template column<UnixTime>(11);
  deployment.updated_at = s.template column<UnixTime>(12);
  deployment.finished_at = s.template column<UnixTime>(13);
  deployment.channel = s.template column<std::string>(14);
  deployment.ignore_window = s.template column<bool>(15);
  deployment.not_before = s.template column<UnixTime>(16);
  return deployment;
}

template <typename Stmt>
void bind_deployment(Stmt& s, const Deployment& deployment) {
  s.bind(1, deployment.campaign.value)
      .bind(2, deployment.device.value)
      .bind(3, deployment.phase)
      .bind(4, deployment.state)
      .bind(5, deployment.progress)
      .bind(6, deployment.error)
      .bind(7, deployment.attempts)
      .bind(8, deployment.artifact_kind)
      .bind(9, deployment.from_sha256)
      .bind(10, deployment.message)
      .bind(11, deployment.created_at)
      .bind(12, deployment.updated_at)
      .bind(13, deployment.finished_at)
      .bind(14, deployment.channel)
      .bind(15, deployment.ignore_window)
      .bind(16, deployment.not_before);
}

// ?1 campaign, ?2 device, ?3 state; fixed as for devices.
std::string deployment_where(const DeploymentFilter& filter) {
  std::string where = " WHERE TRUE";
  if (filter.campaign) where += " AND campaign_id = ?1";
  if (filter.device) where += " AND device_id = ?2";
  if (filter.state) where += " AND state = ?3";
  return where;
}

template <typename Row>
HostResult<AuditEvent> read_audit(const Row& s) {
  AuditEvent event;
  event.id = s.template column<std::int64_t>(0);
  event.at = s.template column<UnixTime>(1);
  event.actor = s.template column<std::string>(2);
  event.action = s.template column<std::string>(3);
  event.object = s.template column<std::string>(4);
  event.details = s.template column<std::string>(5);
  return event;
}

constexpr char kSelectAuthSet[] =
    "SELECT id, id_data, pubkey, status, device_id, created_at, updated_at FROM mender_auth_sets";

template <typename Row>
HostResult<MenderAuthSet> read_auth_set(const Row& s) {
  MenderAuthSet set;
  set.id = s.template column<std::int64_t>(0);
  set.id_data = s.template column<std::string>(1);
  set.pubkey = s.template column<std::string>(2);
  set.status = s.template column<AuthSetStatus>(3);
  set.device.value = s.template column<std::string>(4);
  set.created_at = s.template column<UnixTime>(5);
  set.updated_at = s.template column<UnixTime>(6);
  return set;
}

constexpr char kSelectToken[] =
    "SELECT id, name, role, token_sha256, created_at, expires_at, last_used_at, revoked_at "
    "FROM api_tokens";

template <typename Row>
HostResult<ApiToken> read_token(const Row& s) {
  ApiToken token;
  token.id.value = s.template column<std::int64_t>(0);
  token.name = s.template column<std::string>(1);
  token.role = s.template column<Role>(2);
  token.token_sha256 = s.template column<std::string>(3);
  token.created_at = s.template column<UnixTime>(4);
  token.expires_at = s.template column<UnixTime>(5);
  token.last_used_at = s.template column<UnixTime>(6);
  token.revoked_at = s.template column<UnixTime>(7);
  return token;
}

}  // namespace

template <typename Db>
HostResult<void> SqlStore<Db>::apply_migrations(
    std::span<const Migration> known, const std::function<HostResult<std::int64_t>()>& read_version,
    const std::function<HostResult<void>(std::int64_t)>& write_version) {
  bool current = false;
  const auto apply_next = [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(const std::int64_t version, read_version());
    if (version < 0 || static_cast<std::size_t>(version) > known.size()) {
      return Error(ErrorCode::kStoreMigration, "schema version " + std::to_string(version) +
                                                   " is newer than this server knows (" +
                                                   std::to_string(known.size()) +
                                                   "); upgrade the server");
    }
    if (static_cast<std::size_t>(version) == known.size()) {
      current = true;
      return {};
    }
    const Migration& migration = known[static_cast<std::size_t>(version)];
    const auto applied = db_.exec(migration.sql);
    if (!applied.ok()) {
      return Error(ErrorCode::kStoreMigration,
                   std::string(migration.name) + ": " + applied.error().message);
    }
    return write_version(version + 1);
  };
  for (std::size_t step = 0; step <= known.size(); ++step) {
    UPDRAFT_TRY(transaction(apply_next));
    if (current) return {};
  }
  return Error(ErrorCode::kStoreMigration, "schema version did not advance");
}

template <typename Db>
HostResult<void> SqlStore<Db>::transaction(const std::function<HostResult<void>()>& work) {
  std::lock_guard lock(mutex_);
  // The outermost call opens with Db::kBeginTransaction (SQLite's takes the write
  // lock up front). A nested call joins it through a savepoint: its
  // failure undoes only its own writes, and the outer work decides what follows.
  const bool outermost = depth_ == 0;
  const auto execute = [this](const char* sql) -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(sql));
    return s.run();
  };
  const auto undo = [&] {
    if (outermost) {
      (void)execute("ROLLBACK");
    } else {
      (void)execute("ROLLBACK TO nested");
      (void)execute("RELEASE nested");
    }
  };
  UPDRAFT_TRY(execute(outermost ? Db::kBeginTransaction : "SAVEPOINT nested"));
  ++depth_;
  HostResult<void> result;
  try {
    result = work();
  } catch (...) {
    // Left open, the transaction would swallow every later write of the store.
    --depth_;
    undo();
    throw;
  }
  --depth_;
  if (result.ok()) {
    result = execute(outermost ? "COMMIT" : "RELEASE nested");
    if (result.ok()) return result;
  }
  undo();
  return result;
}

// Products.

template <typename Db>
HostResult<Product> SqlStore<Db>::create_product(const Product& product) {
  std::lock_guard lock(mutex_);
  return about("product " + quoted(product.name), [&]() -> HostResult<Product> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("INSERT INTO products (name, profile, slot_size, "
                                                "sector_size, provisioning_secret_hash, "
                                                "created_at, while_delta_builds, "
                                                "delta_budget_seconds) VALUES (?1, ?2, ?3, ?4, "
                                                "?5, ?6, ?7, ?8) RETURNING id"));
    bind_product(s, product);
    Product stored = product;
    UPDRAFT_TRY_ASSIGN(stored.id.value, inserted_id(s));
    return stored;
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::update_product(const Product& product) {
  std::lock_guard lock(mutex_);
  return about("product " + std::to_string(product.id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("UPDATE products SET name = ?1, profile = ?2, "
                                   "slot_size = ?3, sector_size = ?4, "
                                   "provisioning_secret_hash = ?5, created_at = ?6, "
                                   "while_delta_builds = ?7, delta_budget_seconds = ?8 "
                                   "WHERE id = ?9"));
    bind_product(s, product);
    UPDRAFT_TRY(s.bind(9, product.id.value).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<Product> SqlStore<Db>::product(ProductId id) {
  std::lock_guard lock(mutex_);
  return about("product " + std::to_string(id.value), [&]() -> HostResult<Product> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectProduct) + " WHERE id = ?1"));
    s.bind(1, id.value);
    return one(s, read_product<Statement>);
  });
}

template <typename Db>
HostResult<Product> SqlStore<Db>::product_by_name(const std::string& name) {
  std::lock_guard lock(mutex_);
  return about("product " + quoted(name), [&]() -> HostResult<Product> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectProduct) + " WHERE name = ?1"));
    s.bind(1, name);
    return one(s, read_product<Statement>);
  });
}

template <typename Db>
HostResult<std::vector<Product>> SqlStore<Db>::products() {
  std::lock_guard lock(mutex_);
  return about("products", [&]() -> HostResult<std::vector<Product>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectProduct) + " ORDER BY id"));
    return all(s, read_product<Statement>);
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::delete_by_id(const std::string& what,
                                            std::initializer_list<const char*> statements,
                                            std::int64_t id) {
  return about(what, [&]() -> HostResult<void> {
    return transaction([&]() -> HostResult<void> {
      std::size_t removed = 0;
      for (const char* sql : statements) {
        UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(sql));
        UPDRAFT_TRY(s.bind(1, id).run());
        removed = s.changes();
      }
      if (removed == 0) return not_found();
      return {};
    });
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::delete_product(ProductId id) {
  return delete_by_id("product " + std::to_string(id.value), {"DELETE FROM products WHERE id = ?1"},
                      id.value);
}

// Devices.

template <typename Db>
HostResult<std::vector<std::string>> SqlStore<Db>::tags_of(const DeviceId& id) {
  UPDRAFT_TRY_ASSIGN(Statement s,
                     db_.prepare("SELECT tag FROM device_tags WHERE device_id = ?1 ORDER BY tag"));
  s.bind(1, id.value);
  return all(s, [](const Statement& row) -> HostResult<std::string> {
    return row.template column<std::string>(0);
  });
}

template <typename Db>
HostResult<std::vector<Device>> SqlStore<Db>::read_devices(Statement& statement) {
  UPDRAFT_TRY_ASSIGN(std::vector<Device> devices, all(statement, read_device<Statement>));
  for (Device& device : devices) {
    UPDRAFT_TRY_ASSIGN(device.tags, tags_of(device.id));
  }
  return devices;
}

template <typename Db>
HostResult<void> SqlStore<Db>::create_device(const Device& device) {
  return about("device " + quoted(device.id.value), [&] {
    return transaction([&]() -> HostResult<void> {
      UPDRAFT_TRY_ASSIGN(Statement s,
                         db_.prepare("INSERT INTO devices (id, product_id, hardware, secret_hash, "
                                     "version, image_sha256, slot, battery_percent, network, "
                                     "last_seen, registered_at, serial, token_generation, "
                                     "decommissioned_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                     "?9, ?10, ?11, ?12, ?13, ?14)"));
      s.bind(1, device.id.value)
          .bind(2, device.product.value)
          .bind(3, device.hardware)
          .bind(4, device.secret_hash)
          .bind(5, device.status.version)
          .bind(6, device.status.image_sha256)
          .bind(7, device.status.slot)
          .bind(8, device.status.battery_percent)
          .bind(9, device.status.network)
          .bind(10, device.status.last_seen)
          .bind(11, device.registered_at)
          .bind(12, device.serial)
          .bind(13, device.token_generation)
          .bind(14, device.decommissioned_at);
      UPDRAFT_TRY(s.run());
      return set_device_tags(device.id, device.tags);
    });
  });
}

template <typename Db>
HostResult<Device> SqlStore<Db>::device(const DeviceId& id) {
  std::lock_guard lock(mutex_);
  return about("device " + quoted(id.value), [&]() -> HostResult<Device> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectDevice) + " WHERE id = ?1"));
    s.bind(1, id.value);
    UPDRAFT_TRY_ASSIGN(Device device, one(s, read_device<Statement>));
    UPDRAFT_TRY_ASSIGN(device.tags, tags_of(id));
    return device;
  });
}

template <typename Db>
HostResult<std::vector<Device>> SqlStore<Db>::devices(const DeviceFilter& filter) {
  std::lock_guard lock(mutex_);
  return about("devices", [&]() -> HostResult<std::vector<Device>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectDevice) + device_where(filter) +
                                                " ORDER BY id LIMIT ?6 OFFSET ?7"));
    bind_device_filter(s, filter);
    s.bind(6, sql_count(filter.limit)).bind(7, sql_count(filter.offset));
    return read_devices(s);
  });
}

template <typename Db>
HostResult<std::size_t> SqlStore<Db>::count_devices(const DeviceFilter& filter) {
  std::lock_guard lock(mutex_);
  return about("devices", [&]() -> HostResult<std::size_t> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("SELECT COUNT(*) FROM devices" + device_where(filter)));
    bind_device_filter(s, filter);
    UPDRAFT_TRY(s.step());
    return s.template column<std::size_t>(0);
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::set_device_tags(const DeviceId& id,
                                               const std::vector<std::string>& tags) {
  return about("tags of device " + quoted(id.value), [&] {
    return transaction([&]() -> HostResult<void> {
      {
        // With no tags to insert, only this catches a missing device.
        UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("SELECT 1 FROM devices WHERE id = ?1"));
        UPDRAFT_TRY_ASSIGN(const bool exists, s.bind(1, id.value).step());
        if (!exists) return not_found();
      }
      UPDRAFT_TRY_ASSIGN(Statement clear,
                         db_.prepare("DELETE FROM device_tags WHERE device_id = ?1"));
      UPDRAFT_TRY(clear.bind(1, id.value).run());
      for (const std::string& tag : tags) {
        UPDRAFT_TRY_ASSIGN(Statement s,
                           db_.prepare("INSERT INTO device_tags (device_id, tag) VALUES (?1, ?2) "
                                       "ON CONFLICT DO NOTHING"));
        UPDRAFT_TRY(s.bind(1, id.value).bind(2, tag).run());
      }
      return {};
    });
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::set_device_secret(const DeviceId& id,
                                                 const std::string& secret_hash) {
  std::lock_guard lock(mutex_);
  return about("secret of device " + quoted(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("UPDATE devices SET secret_hash = ?2, "
                                                "token_generation = token_generation + 1 "
                                                "WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, id.value).bind(2, secret_hash).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::decommission_device(const DeviceId& id, UnixTime at) {
  std::lock_guard lock(mutex_);
  return about("device " + quoted(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("UPDATE devices SET secret_hash = '', "
                                                "token_generation = token_generation + 1, "
                                                "decommissioned_at = ?2 WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, id.value).bind(2, at).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<std::vector<DeviceTokenState>> SqlStore<Db>::ended_device_tokens() {
  std::lock_guard lock(mutex_);
  return about("devices with ended tokens", [&]() -> HostResult<std::vector<DeviceTokenState>> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("SELECT id, token_generation, decommissioned_at FROM devices "
                                   "WHERE token_generation != 0 OR decommissioned_at != 0"));
    return all(s, [](const Statement& row) -> HostResult<DeviceTokenState> {
      DeviceTokenState state;
      state.device.value = row.template column<std::string>(0);
      state.generation = row.template column<std::uint32_t>(1);
      state.decommissioned = row.template column<UnixTime>(2) != 0;
      return state;
    });
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::set_device_serial(const DeviceId& id, const std::string& serial) {
  std::lock_guard lock(mutex_);
  return about("serial of device " + quoted(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("UPDATE devices SET serial = ?2 WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, id.value).bind(2, serial).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::record_status(const DeviceId& id, const DeviceStatusReport& status) {
  std::lock_guard lock(mutex_);
  return about("status of device " + quoted(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("UPDATE devices SET version = ?2, image_sha256 = ?3, slot = ?4, "
                                   "battery_percent = ?5, network = ?6, last_seen = ?7 "
                                   "WHERE id = ?1"));
    s.bind(1, id.value)
        .bind(2, status.version)
        .bind(3, status.image_sha256)
        .bind(4, status.slot)
        .bind(5, status.battery_percent)
        .bind(6, status.network)
        .bind(7, status.last_seen);
    UPDRAFT_TRY(s.run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

// Releases.

template <typename Db>
HostResult<Release> SqlStore<Db>::create_release(const Release& release) {
  std::lock_guard lock(mutex_);
  return about(
      "release " + quoted(release.version) + " of product " + std::to_string(release.product.value),
      [&]() -> HostResult<Release> {
        UPDRAFT_TRY_ASSIGN(const std::string hardware, with_json(ErrorCode::kInvalidArgument, [&] {
                             return Json(release.hardware).dump();
                           }));
        UPDRAFT_TRY_ASSIGN(
            Statement s, db_.prepare("INSERT INTO releases (product_id, version, security_counter, "
                                     "hardware, allow_downgrade, size, sha256, notes, created_at, "
                                     "enos_version, mender_artifact_name) VALUES (?1, ?2, ?3, "
                                     "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id"));
        s.bind(1, release.product.value)
            .bind(2, release.version)
            .bind(3, release.security_counter)
            .bind(4, hardware)
            .bind(5, release.allow_downgrade)
            .bind(6, release.size)
            .bind(7, release.sha256)
            .bind(8, release.notes)
            .bind(9, release.created_at)
            .bind(10, release.enos_version)
            .bind(11, release.mender_artifact_name);
        Release stored = release;
        UPDRAFT_TRY_ASSIGN(stored.id.value, inserted_id(s));
        return stored;
      });
}

template <typename Db>
HostResult<Release> SqlStore<Db>::release(ReleaseId id) {
  std::lock_guard lock(mutex_);
  return about("release " + std::to_string(id.value), [&]() -> HostResult<Release> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectRelease) + " WHERE id = ?1"));
    s.bind(1, id.value);
    return one(s, read_release<Statement>);
  });
}

template <typename Db>
HostResult<Release> SqlStore<Db>::release_by_version(ProductId product,
                                                     const std::string& version) {
  std::lock_guard lock(mutex_);
  return about("release " + quoted(version) + " of product " + std::to_string(product.value),
               [&]() -> HostResult<Release> {
                 UPDRAFT_TRY_ASSIGN(Statement s,
                                    db_.prepare(std::string(kSelectRelease) +
                                                " WHERE product_id = ?1 AND version = ?2"));
                 s.bind(1, product.value).bind(2, version);
                 return one(s, read_release<Statement>);
               });
}

template <typename Db>
HostResult<Release> SqlStore<Db>::release_by_image(ProductId product, const std::string& sha256) {
  std::lock_guard lock(mutex_);
  return about("release with image " + sha256 + " of product " + std::to_string(product.value),
               [&]() -> HostResult<Release> {
                 // Two versions may share an image; the first uploaded answers.
                 UPDRAFT_TRY_ASSIGN(
                     Statement s,
                     db_.prepare(std::string(kSelectRelease) +
                                 " WHERE product_id = ?1 AND sha256 = ?2 ORDER BY id LIMIT 1"));
                 s.bind(1, product.value).bind(2, sha256);
                 return one(s, read_release<Statement>);
               });
}

template <typename Db>
HostResult<std::vector<Release>> SqlStore<Db>::releases(std::optional<ProductId> product) {
  std::lock_guard lock(mutex_);
  return about("releases", [&]() -> HostResult<std::vector<Release>> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare(std::string(kSelectRelease) +
                                   (product ? " WHERE product_id = ?1" : "") + " ORDER BY id"));
    if (product) s.bind(1, product->value);
    return all(s, read_release<Statement>);
  });
}

template <typename Db>
HostResult<std::size_t> SqlStore<Db>::count(const std::string& sql,
                                            const std::function<void(Statement&)>& bind) {
  UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(sql));
  bind(s);
  UPDRAFT_TRY(s.step());
  return static_cast<std::size_t>(s.template column<std::int64_t>(0));
}

template <typename Db>
HostResult<Page<Release>> SqlStore<Db>::release_page(std::optional<ProductId> product,
                                                     std::size_t limit, std::size_t offset) {
  std::lock_guard lock(mutex_);
  return about("releases", [&]() -> HostResult<Page<Release>> {
    const std::string where = product ? " WHERE product_id = ?1" : "";
    const auto bind_product = [&](Statement& s) {
      if (product) s.bind(1, product->value);
    };
    Page<Release> page;
    UPDRAFT_TRY_ASSIGN(page.total, count("SELECT count(*) FROM releases" + where, bind_product));
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectRelease) + where +
                                                " ORDER BY id DESC LIMIT ?2 OFFSET ?3"));
    bind_product(s);
    s.bind(2, sql_count(limit)).bind(3, sql_count(offset));
    UPDRAFT_TRY_ASSIGN(page.items, all(s, read_release<Statement>));
    return page;
  });
}

// Delta cache index.

template <typename Db>
HostResult<void> SqlStore<Db>::delete_release(ReleaseId id) {
  return delete_by_id("release " + std::to_string(id.value), {"DELETE FROM releases WHERE id = ?1"},
                      id.value);
}

template <typename Db>
HostResult<void> SqlStore<Db>::put_delta(const DeltaRecord& delta) {
  std::lock_guard lock(mutex_);
  return about(
      delta_name(delta.from_sha256, delta.to_sha256, delta.profile), [&]() -> HostResult<void> {
        UPDRAFT_TRY_ASSIGN(
            Statement s,
            db_.prepare("INSERT INTO deltas (from_sha256, to_sha256, profile, state, size, "
                        "error, hits, created_at, last_used_at, build_ms) VALUES (?1, ?2, "
                        "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (from_sha256, "
                        "to_sha256, profile) DO UPDATE SET state = excluded.state, size = "
                        "excluded.size, error = excluded.error, hits = excluded.hits, "
                        "created_at = excluded.created_at, last_used_at = "
                        "excluded.last_used_at, build_ms = excluded.build_ms"));
        return s.bind(1, delta.from_sha256)
            .bind(2, delta.to_sha256)
            .bind(3, delta.profile)
            .bind(4, delta.state)
            .bind(5, delta.size)
            .bind(6, delta.error)
            .bind(7, delta.hits)
            .bind(8, delta.created_at)
            .bind(9, delta.last_used_at)
            .bind(10, delta.build_ms)
            .run();
      });
}

template <typename Db>
HostResult<DeltaRecord> SqlStore<Db>::delta(const std::string& from_sha256,
                                            const std::string& to_sha256, delta::Profile profile) {
  std::lock_guard lock(mutex_);
  return about(delta_name(from_sha256, to_sha256, profile), [&]() -> HostResult<DeltaRecord> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare(std::string(kSelectDelta) +
                                   " WHERE from_sha256 = ?1 AND to_sha256 = ?2 AND profile = ?3"));
    s.bind(1, from_sha256).bind(2, to_sha256).bind(3, profile);
    return one(s, read_delta<Statement>);
  });
}

template <typename Db>
HostResult<std::vector<DeltaRecord>> SqlStore<Db>::deltas() {
  std::lock_guard lock(mutex_);
  return about("deltas", [&]() -> HostResult<std::vector<DeltaRecord>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectDelta) +
                                                " ORDER BY from_sha256, to_sha256, profile"));
    return all(s, read_delta<Statement>);
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::delete_delta(const std::string& from_sha256,
                                            const std::string& to_sha256, delta::Profile profile) {
  std::lock_guard lock(mutex_);
  return about(delta_name(from_sha256, to_sha256, profile), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("DELETE FROM deltas WHERE from_sha256 = ?1 AND "
                                                "to_sha256 = ?2 AND profile = ?3"));
    UPDRAFT_TRY(s.bind(1, from_sha256).bind(2, to_sha256).bind(3, profile).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<bool> SqlStore<Db>::queue_delta_build(const DeltaRecord& job) {
  std::lock_guard lock(mutex_);
  return about(delta_name(job.from_sha256, job.to_sha256, job.profile), [&]() -> HostResult<bool> {
    // One statement, so that two servers cannot both queue the same patch.
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO deltas (from_sha256, to_sha256, profile, state, "
                                   "size, error, hits, created_at, last_used_at) VALUES (?1, ?2, "
                                   "?3, ?4, 0, '', 0, ?5, ?6) ON CONFLICT (from_sha256, "
                                   "to_sha256, profile) DO NOTHING"));
    UPDRAFT_TRY(s.bind(1, job.from_sha256)
                    .bind(2, job.to_sha256)
                    .bind(3, job.profile)
                    .bind(4, DeltaState::kQueued)
                    .bind(5, job.created_at)
                    .bind(6, job.last_used_at)
                    .run());
    return s.changes() == 1;
  });
}

template <typename Db>
HostResult<std::optional<DeltaRecord>> SqlStore<Db>::take_delta_build(UnixTime now,
                                                                      UnixTime stale_before) {
  std::lock_guard lock(mutex_);
  return about("the delta build queue", [&]() -> HostResult<std::optional<DeltaRecord>> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare(std::string("UPDATE deltas SET state = ?1, last_used_at = ?2 WHERE "
                                "(from_sha256, to_sha256, profile) IN (SELECT from_sha256, "
                                "to_sha256, profile FROM deltas WHERE state = ?3 OR (state = ?1 "
                                "AND last_used_at < ?4) ORDER BY created_at LIMIT 1") +
                    Db::kSkipLocked +
                    ") RETURNING from_sha256, to_sha256, profile, state, size, error, hits, "
                    "created_at, last_used_at, build_ms"));
    s.bind(1, DeltaState::kBuilding)
        .bind(2, now)
        .bind(3, DeltaState::kQueued)
        .bind(4, stale_before);
    UPDRAFT_TRY_ASSIGN(std::vector<DeltaRecord> taken, all(s, read_delta<Statement>));
    if (taken.empty()) return std::optional<DeltaRecord>{};
    return std::optional<DeltaRecord>{std::move(taken.front())};
  });
}

// Campaigns.

template <typename Db>
HostResult<Campaign> SqlStore<Db>::create_campaign(const Campaign& campaign) {
  std::lock_guard lock(mutex_);
  return about("campaign " + quoted(campaign.name), [&]() -> HostResult<Campaign> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare("INSERT INTO campaigns (name, product_id, release_id, target, phases, "
                    "success_threshold, failure_threshold, maintenance_window, "
                    "max_concurrent_downloads, force, state, current_phase, pause_reason, "
                    "created_by, created_at, started_at, finished_at, allow_downgrade, "
                    "deployment_timeout, start_at, dynamic) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                    "?18, ?19, ?20, ?21) RETURNING id"));
    UPDRAFT_TRY(bind_campaign(s, campaign));
    Campaign stored = campaign;
    UPDRAFT_TRY_ASSIGN(stored.id.value, inserted_id(s));
    return stored;
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::update_campaign(const Campaign& campaign) {
  std::lock_guard lock(mutex_);
  return about("campaign " + std::to_string(campaign.id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare("UPDATE campaigns SET name = ?1, product_id = ?2, release_id = ?3, "
                    "target = ?4, phases = ?5, success_threshold = ?6, failure_threshold = ?7, "
                    "maintenance_window = ?8, max_concurrent_downloads = ?9, force = ?10, "
                    "state = ?11, current_phase = ?12, pause_reason = ?13, created_by = ?14, "
                    "created_at = ?15, started_at = ?16, finished_at = ?17, allow_downgrade = ?18, "
                    "deployment_timeout = ?19, start_at = ?20, dynamic = ?21 "
                    "WHERE id = ?22"));
    UPDRAFT_TRY(bind_campaign(s, campaign));
    UPDRAFT_TRY(s.bind(22, campaign.id.value).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<Campaign> SqlStore<Db>::campaign(CampaignId id) {
  std::lock_guard lock(mutex_);
  return about("campaign " + std::to_string(id.value), [&]() -> HostResult<Campaign> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectCampaign) + " WHERE id = ?1"));
    s.bind(1, id.value);
    return one(s, read_campaign<Statement>);
  });
}

template <typename Db>
HostResult<Page<Campaign>> SqlStore<Db>::campaign_page(std::size_t limit, std::size_t offset) {
  std::lock_guard lock(mutex_);
  return about("campaigns", [&]() -> HostResult<Page<Campaign>> {
    Page<Campaign> page;
    UPDRAFT_TRY_ASSIGN(page.total, count("SELECT count(*) FROM campaigns", [](Statement&) {}));
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectCampaign) +
                                                " ORDER BY id DESC LIMIT ?1 OFFSET ?2"));
    s.bind(1, sql_count(limit)).bind(2, sql_count(offset));
    UPDRAFT_TRY_ASSIGN(page.items, all(s, read_campaign<Statement>));
    return page;
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::delete_campaign(CampaignId id) {
  // The deployments' history and logs go with them (ON DELETE CASCADE).
  return delete_by_id(
      "campaign " + std::to_string(id.value),
      {"DELETE FROM deployments WHERE campaign_id = ?1", "DELETE FROM campaigns WHERE id = ?1"},
      id.value);
}

template <typename Db>
HostResult<std::vector<Campaign>> SqlStore<Db>::campaigns() {
  std::lock_guard lock(mutex_);
  return about("campaigns", [&]() -> HostResult<std::vector<Campaign>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectCampaign) + " ORDER BY id"));
    return all(s, read_campaign<Statement>);
  });
}

// Deployments.

template <typename Db>
HostResult<void> SqlStore<Db>::create_deployments(std::vector<Deployment>& deployments) {
  std::vector<std::int64_t> ids;
  ids.reserve(deployments.size());
  const auto insert = [&](const Deployment& deployment) -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO deployments (campaign_id, device_id, phase, state, "
                                   "progress, error, attempts, artifact_kind, from_sha256, "
                                   "message, created_at, updated_at, finished_at, channel, "
                                   "ignore_window, not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                   "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) RETURNING id"));
    bind_deployment(s, deployment);
    UPDRAFT_TRY_ASSIGN(const std::int64_t id, inserted_id(s));
    ids.push_back(id);
    return {};
  };
  const auto insert_all = [&]() -> HostResult<void> {
    for (const Deployment& deployment : deployments) {
      UPDRAFT_TRY(about("deployment of device " + quoted(deployment.device.value) +
                            " in campaign " + std::to_string(deployment.campaign.value),
                        [&] { return insert(deployment); }));
    }
    return {};
  };
  UPDRAFT_TRY(transaction(insert_all));
  // Only now: a failed batch leaves the caller's records as they were.
  for (std::size_t i = 0; i < deployments.size(); ++i) deployments[i].id.value = ids[i];
  return {};
}

template <typename Db>
HostResult<void> SqlStore<Db>::update_deployment(const Deployment& deployment) {
  std::lock_guard lock(mutex_);
  return about("deployment " + std::to_string(deployment.id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare("UPDATE deployments SET campaign_id = ?1, device_id = ?2, phase = ?3, "
                    "state = ?4, progress = ?5, error = ?6, attempts = ?7, artifact_kind = ?8, "
                    "from_sha256 = ?9, message = ?10, created_at = ?11, updated_at = ?12, "
                    "finished_at = ?13, channel = ?14, ignore_window = ?15, not_before = ?16 "
                    "WHERE id = ?17"));
    bind_deployment(s, deployment);
    UPDRAFT_TRY(s.bind(17, deployment.id.value).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<Deployment> SqlStore<Db>::deployment(DeploymentId id) {
  std::lock_guard lock(mutex_);
  return about("deployment " + std::to_string(id.value), [&]() -> HostResult<Deployment> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectDeployment) + " WHERE id = ?1"));
    s.bind(1, id.value);
    return one(s, read_deployment<Statement>);
  });
}

template <typename Db>
HostResult<std::vector<Deployment>> SqlStore<Db>::deployments(const DeploymentFilter& filter) {
  std::lock_guard lock(mutex_);
  return about("deployments", [&]() -> HostResult<std::vector<Deployment>> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare(std::string(kSelectDeployment) + deployment_where(filter) +
                                   " ORDER BY id LIMIT ?4 OFFSET ?5"));
    if (filter.campaign) s.bind(1, filter.campaign->value);
    if (filter.device) s.bind(2, filter.device->value);
    if (filter.state) s.bind(3, *filter.state);
    s.bind(4, sql_count(filter.limit)).bind(5, sql_count(filter.offset));
    return all(s, read_deployment<Statement>);
  });
}

template <typename Db>
HostResult<Deployment> SqlStore<Db>::open_deployment(const DeviceId& device) {
  std::lock_guard lock(mutex_);
  return about(
      "open deployment of device " + quoted(device.value), [&]() -> HostResult<Deployment> {
        UPDRAFT_TRY_ASSIGN(
            Statement s, db_.prepare(std::string(kSelectDeployment) +
                                     " WHERE device_id = ?1 AND state NOT IN (?2, ?3, ?4, ?5) AND "
                                     "EXISTS (SELECT 1 FROM campaigns WHERE campaigns.id = "
                                     "deployments.campaign_id AND campaigns.state IN (?6, ?7)) "
                                     "ORDER BY id DESC LIMIT 1"));
        // The states is_final() names; store_test checks every state against it.
        s.bind(1, device.value)
            .bind(2, DeploymentState::kSucceeded)
            .bind(3, DeploymentState::kFailed)
            .bind(4, DeploymentState::kRolledBack)
            .bind(5, DeploymentState::kCanceled)
            .bind(6, CampaignState::kRunning)
            .bind(7, CampaignState::kPaused);
        return one(s, read_deployment<Statement>);
      });
}

template <typename Db>
HostResult<HistoryPage> SqlStore<Db>::device_history(const DeviceId& device, std::size_t limit,
                                                     std::size_t offset) {
  std::lock_guard lock(mutex_);
  return about("history of device " + quoted(device.value), [&]() -> HostResult<HistoryPage> {
    HistoryPage page;
    {
      UPDRAFT_TRY_ASSIGN(Statement s,
                         db_.prepare("SELECT h.deployment_id, d.campaign_id, h.at, h.state, "
                                     "h.progress, h.error, h.attempt, h.message FROM "
                                     "deployment_history h JOIN deployments d ON d.id = "
                                     "h.deployment_id WHERE d.device_id = ?1 ORDER BY h.id DESC "
                                     "LIMIT ?2 OFFSET ?3"));
      s.bind(1, device.value).bind(2, sql_count(limit)).bind(3, sql_count(offset));
      UPDRAFT_TRY_ASSIGN(page.entries,
                         all(s, [](const Statement& row) -> HostResult<DeploymentHistoryEntry> {
                           DeploymentHistoryEntry e;
                           e.deployment.value = row.template column<std::int64_t>(0);
                           e.campaign.value = row.template column<std::int64_t>(1);
                           e.at = row.template column<UnixTime>(2);
                           e.state = row.template column<DeploymentState>(3);
                           e.progress = row.template column<int>(4);
                           e.error = row.template column<int>(5);
                           e.attempt = row.template column<int>(6);
                           e.message = row.template column<std::string>(7);
                           return e;
                         }));
    }
    UPDRAFT_TRY_ASSIGN(Statement count,
                       db_.prepare("SELECT COUNT(*) FROM deployment_history h JOIN deployments d "
                                   "ON d.id = h.deployment_id WHERE d.device_id = ?1"));
    count.bind(1, device.value);
    UPDRAFT_TRY_ASSIGN(page.total, one(count, [](const Statement& row) -> HostResult<std::size_t> {
                         return row.template column<std::size_t>(0);
                       }));
    return page;
  });
}

template <typename Db>
HostResult<std::size_t> SqlStore<Db>::append_deployment_log(DeploymentId id, UnixTime at,
                                                            const std::vector<std::string>& lines,
                                                            std::size_t max_lines) {
  const auto read_count = [](const Statement& row) -> HostResult<std::size_t> {
    return row.template column<std::size_t>(0);
  };
  return about("log of deployment " + std::to_string(id.value), [&]() -> HostResult<std::size_t> {
    std::size_t kept = 0;
    HostResult<void> done = transaction([&]() -> HostResult<void> {
      UPDRAFT_TRY_ASSIGN(Statement held,
                         db_.prepare("SELECT (SELECT COUNT(*) FROM deployment_logs WHERE "
                                     "deployment_id = ?1) FROM deployments WHERE id = ?1"));
      held.bind(1, id.value);
      UPDRAFT_TRY_ASSIGN(const std::size_t count, one(held, read_count));
      kept = std::min(lines.size(), max_lines > count ? max_lines - count : 0);
      for (std::size_t i = 0; i < kept; ++i) {
        UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("INSERT INTO deployment_logs (deployment_id, "
                                                    "at, line) VALUES (?1, ?2, ?3)"));
        UPDRAFT_TRY(s.bind(1, id.value).bind(2, at).bind(3, lines[i]).run());
      }
      if (kept == lines.size()) return {};
      UPDRAFT_TRY_ASSIGN(Statement dropped,
                         db_.prepare("UPDATE deployments SET log_dropped = log_dropped + ?2 WHERE "
                                     "id = ?1"));
      return dropped.bind(1, id.value).bind(2, sql_count(lines.size() - kept)).run();
    });
    if (!done.ok()) return done.error();
    return kept;
  });
}

template <typename Db>
HostResult<LogPage> SqlStore<Db>::deployment_log(DeploymentId id, std::size_t limit,
                                                 std::size_t offset) {
  std::lock_guard lock(mutex_);
  return about("log of deployment " + std::to_string(id.value), [&]() -> HostResult<LogPage> {
    LogPage page;
    {
      UPDRAFT_TRY_ASSIGN(Statement s,
                         db_.prepare("SELECT log_dropped, (SELECT COUNT(*) FROM deployment_logs "
                                     "WHERE deployment_id = ?1) FROM deployments WHERE id = ?1"));
      s.bind(1, id.value);
      UPDRAFT_TRY_ASSIGN(const bool row, s.step());
      if (!row) return not_found();
      page.dropped = s.template column<std::uint64_t>(0);
      page.total = s.template column<std::size_t>(1);
    }
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("SELECT at, line FROM deployment_logs WHERE deployment_id = "
                                   "?1 ORDER BY id LIMIT ?2 OFFSET ?3"));
    s.bind(1, id.value).bind(2, sql_count(limit)).bind(3, sql_count(offset));
    UPDRAFT_TRY_ASSIGN(page.lines,
                       all(s, [](const Statement& row) -> HostResult<DeploymentLogLine> {
                         return DeploymentLogLine{row.template column<UnixTime>(0),
                                                  row.template column<std::string>(1)};
                       }));
    return page;
  });
}

template <typename Db>
HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> SqlStore<Db>::count_deployments(
    std::optional<CampaignId> campaign) {
  using Count = std::pair<DeploymentState, std::size_t>;
  std::lock_guard lock(mutex_);
  return about("deployments", [&]() -> HostResult<std::vector<Count>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string("SELECT state, COUNT(*) FROM "
                                                            "deployments") +
                                                (campaign ? " WHERE campaign_id = ?1" : "") +
                                                " GROUP BY state ORDER BY state"));
    if (campaign) s.bind(1, campaign->value);
    return all(s, [](const Statement& row) -> HostResult<Count> {
      return Count{row.template column<DeploymentState>(0), row.template column<std::size_t>(1)};
    });
  });
}

template <typename Db>
HostResult<std::size_t> SqlStore<Db>::count_deployments_in_state(CampaignId campaign,
                                                                 DeploymentState state) {
  std::lock_guard lock(mutex_);
  return about("deployments", [&]() -> HostResult<std::size_t> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare("SELECT COUNT(*) FROM deployments WHERE campaign_id = ?1 AND state = ?2"));
    s.bind(1, campaign.value).bind(2, state);
    UPDRAFT_TRY_ASSIGN(const bool row, s.step());
    return row ? s.template column<std::size_t>(0) : std::size_t{0};
  });
}

template <typename Db>
HostResult<std::size_t> SqlStore<Db>::count_in_flight(ProductId product, const std::string& channel,
                                                      UnixTime since) {
  std::lock_guard lock(mutex_);
  return about("deployments in flight", [&]() -> HostResult<std::size_t> {
    UPDRAFT_TRY_ASSIGN(
        Statement s,
        db_.prepare("SELECT COUNT(*) FROM deployments d JOIN campaigns c ON c.id = d.campaign_id "
                    "WHERE c.product_id = ?1 AND d.channel = ?2 AND d.artifact_kind != '' "
                    "AND d.state IN (?3, ?4, ?5, ?6) AND d.updated_at >= ?7"));
    s.bind(1, product.value)
        .bind(2, channel)
        .bind(3, DeploymentState::kPending)
        .bind(4, DeploymentState::kDownloading)
        .bind(5, DeploymentState::kInstalling)
        .bind(6, DeploymentState::kRebooting)
        .bind(7, since);
    return one(s, [](const Statement& row) -> HostResult<std::size_t> {
      return row.template column<std::size_t>(0);
    });
  });
}

// Audit log.

template <typename Db>
HostResult<AuditEvent> SqlStore<Db>::append_audit(const AuditEvent& event) {
  std::lock_guard lock(mutex_);
  return about("audit event " + quoted(event.action), [&]() -> HostResult<AuditEvent> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO audit (at, actor, action, object, "
                                   "details) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"));
    s.bind(1, event.at)
        .bind(2, event.actor)
        .bind(3, event.action)
        .bind(4, event.object)
        .bind(5, event.details);
    AuditEvent stored = event;
    UPDRAFT_TRY_ASSIGN(stored.id, inserted_id(s));
    return stored;
  });
}

template <typename Db>
HostResult<std::vector<AuditEvent>> SqlStore<Db>::audit(std::size_t limit, std::int64_t before_id) {
  std::lock_guard lock(mutex_);
  return about("audit log", [&]() -> HostResult<std::vector<AuditEvent>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("SELECT id, at, actor, action, object, details "
                                                "FROM audit WHERE id < ?1 ORDER BY id DESC "
                                                "LIMIT ?2"));
    s.bind(1, before_id == 0 ? std::numeric_limits<std::int64_t>::max() : before_id)
        .bind(2, sql_count(limit));
    return all(s, read_audit<Statement>);
  });
}

// Settings.

template <typename Db>
HostResult<std::string> SqlStore<Db>::setting(const std::string& key) {
  std::lock_guard lock(mutex_);
  return about("setting " + quoted(key), [&]() -> HostResult<std::string> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    return one(s, [](const Statement& row) -> HostResult<std::string> {
      return row.template column<std::string>(0);
    });
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::set_setting(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  return about("setting " + quoted(key), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    return s.bind(1, key).bind(2, value).run();
  });
}

template <typename Db>
HostResult<std::string> SqlStore<Db>::setting_or_set(const std::string& key,
                                                     const std::string& value) {
  std::lock_guard lock(mutex_);
  return about("setting " + quoted(key), [&]() -> HostResult<std::string> {
    {
      UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("INSERT INTO settings (key, value) VALUES (?1, "
                                                  "?2) ON CONFLICT (key) DO NOTHING"));
      UPDRAFT_TRY(s.bind(1, key).bind(2, value).run());
    }
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    return one(s, [](const Statement& row) -> HostResult<std::string> {
      return row.template column<std::string>(0);
    });
  });
}

// Mender authentication sets and device inventory.

template <typename Db>
HostResult<MenderAuthSet> SqlStore<Db>::create_auth_set(const MenderAuthSet& set) {
  std::lock_guard lock(mutex_);
  return about("authentication set of " + set.id_data, [&]() -> HostResult<MenderAuthSet> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO mender_auth_sets (id_data, pubkey, status, "
                                   "device_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
                                   "?5, ?6) RETURNING id"));
    s.bind(1, set.id_data)
        .bind(2, set.pubkey)
        .bind(3, set.status)
        .bind(4, set.device.value)
        .bind(5, set.created_at)
        .bind(6, set.updated_at);
    MenderAuthSet stored = set;
    UPDRAFT_TRY_ASSIGN(stored.id, inserted_id(s));
    return stored;
  });
}

template <typename Db>
HostResult<MenderAuthSet> SqlStore<Db>::auth_set(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return about("authentication set " + std::to_string(id), [&]() -> HostResult<MenderAuthSet> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectAuthSet) + " WHERE id = ?1"));
    s.bind(1, id);
    return one(s, read_auth_set<Statement>);
  });
}

template <typename Db>
HostResult<MenderAuthSet> SqlStore<Db>::auth_set_by_key(const std::string& id_data,
                                                        const std::string& pubkey) {
  std::lock_guard lock(mutex_);
  return about("authentication set of " + id_data, [&]() -> HostResult<MenderAuthSet> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectAuthSet) +
                                                " WHERE id_data = ?1 AND pubkey = ?2"));
    s.bind(1, id_data).bind(2, pubkey);
    return one(s, read_auth_set<Statement>);
  });
}

template <typename Db>
HostResult<Page<MenderAuthSet>> SqlStore<Db>::auth_sets(std::optional<AuthSetStatus> status,
                                                        std::size_t limit, std::size_t offset) {
  std::lock_guard lock(mutex_);
  return about("authentication sets", [&]() -> HostResult<Page<MenderAuthSet>> {
    const std::string where = status ? " WHERE status = ?1" : "";
    const auto bind_status = [&](Statement& s) {
      if (status) s.bind(1, *status);
    };
    Page<MenderAuthSet> page;
    UPDRAFT_TRY_ASSIGN(page.total,
                       count("SELECT count(*) FROM mender_auth_sets" + where, bind_status));
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectAuthSet) + where +
                                                " ORDER BY id DESC LIMIT ?2 OFFSET ?3"));
    bind_status(s);
    s.bind(2, sql_count(limit)).bind(3, sql_count(offset));
    UPDRAFT_TRY_ASSIGN(page.items, all(s, read_auth_set<Statement>));
    return page;
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::update_auth_set(const MenderAuthSet& set) {
  std::lock_guard lock(mutex_);
  return about("authentication set " + std::to_string(set.id), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("UPDATE mender_auth_sets SET status = ?2, device_id = ?3, "
                                   "updated_at = ?4 WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, set.id)
                    .bind(2, set.status)
                    .bind(3, set.device.value)
                    .bind(4, set.updated_at)
                    .run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::put_inventory(const DeviceId& device,
                                             const std::vector<InventoryAttribute>& attributes,
                                             bool replace_all) {
  return transaction([&]() -> HostResult<void> {
    std::lock_guard lock(mutex_);
    return about("inventory of device " + quoted(device.value), [&]() -> HostResult<void> {
      if (replace_all) {
        UPDRAFT_TRY_ASSIGN(Statement s,
                           db_.prepare("DELETE FROM device_inventory WHERE device_id = ?1"));
        UPDRAFT_TRY(s.bind(1, device.value).run());
      }
      for (const InventoryAttribute& a : attributes) {
        UPDRAFT_TRY_ASSIGN(Statement s,
                           db_.prepare("INSERT INTO device_inventory (device_id, name, value, "
                                       "updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                       "(device_id, name) DO UPDATE SET value = excluded.value, "
                                       "updated_at = excluded.updated_at"));
        UPDRAFT_TRY(
            s.bind(1, device.value).bind(2, a.name).bind(3, a.value).bind(4, a.updated_at).run());
      }
      return {};
    });
  });
}

template <typename Db>
HostResult<std::vector<InventoryAttribute>> SqlStore<Db>::inventory(const DeviceId& device) {
  std::lock_guard lock(mutex_);
  return about("inventory of device " + quoted(device.value),
               [&]() -> HostResult<std::vector<InventoryAttribute>> {
                 UPDRAFT_TRY_ASSIGN(Statement s,
                                    db_.prepare("SELECT name, value, updated_at FROM "
                                                "device_inventory WHERE device_id = ?1 "
                                                "ORDER BY name"));
                 s.bind(1, device.value);
                 return all(s, [](const Statement& row) -> HostResult<InventoryAttribute> {
                   return InventoryAttribute{row.template column<std::string>(0),
                                             row.template column<std::string>(1),
                                             row.template column<UnixTime>(2)};
                 });
               });
}

// Admin API tokens.

template <typename Db>
HostResult<ApiToken> SqlStore<Db>::create_token(const ApiToken& token) {
  std::lock_guard lock(mutex_);
  return about("token " + quoted(token.name), [&]() -> HostResult<ApiToken> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("INSERT INTO api_tokens (name, role, token_sha256, created_at, "
                                   "expires_at, last_used_at, revoked_at) VALUES (?1, ?2, ?3, ?4, "
                                   "?5, ?6, ?7) RETURNING id"));
    s.bind(1, token.name)
        .bind(2, token.role)
        .bind(3, token.token_sha256)
        .bind(4, token.created_at)
        .bind(5, token.expires_at)
        .bind(6, token.last_used_at)
        .bind(7, token.revoked_at);
    ApiToken stored = token;
    UPDRAFT_TRY_ASSIGN(stored.id.value, inserted_id(s));
    return stored;
  });
}

template <typename Db>
HostResult<ApiToken> SqlStore<Db>::token(TokenId id) {
  std::lock_guard lock(mutex_);
  return about("token " + std::to_string(id.value), [&]() -> HostResult<ApiToken> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectToken) + " WHERE id = ?1"));
    s.bind(1, id.value);
    return one(s, read_token<Statement>);
  });
}

template <typename Db>
HostResult<ApiToken> SqlStore<Db>::token_by_hash(const std::string& token_sha256) {
  std::lock_guard lock(mutex_);
  // The hash stays out of the message: it is what a request presents.
  return about("token with the presented hash", [&]() -> HostResult<ApiToken> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare(std::string(kSelectToken) + " WHERE token_sha256 = ?1"));
    s.bind(1, token_sha256);
    return one(s, read_token<Statement>);
  });
}

template <typename Db>
HostResult<std::vector<ApiToken>> SqlStore<Db>::tokens() {
  std::lock_guard lock(mutex_);
  return about("tokens", [&]() -> HostResult<std::vector<ApiToken>> {
    UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare(std::string(kSelectToken) + " ORDER BY id"));
    return all(s, read_token<Statement>);
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::revoke_token(TokenId id, UnixTime at) {
  std::lock_guard lock(mutex_);
  return about("token " + std::to_string(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, id.value).bind(2, at).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

template <typename Db>
HostResult<void> SqlStore<Db>::set_token_last_used(TokenId id, UnixTime at) {
  std::lock_guard lock(mutex_);
  return about("token " + std::to_string(id.value), [&]() -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(Statement s,
                       db_.prepare("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"));
    UPDRAFT_TRY(s.bind(1, id.value).bind(2, at).run());
    if (s.changes() == 0) return not_found();
    return {};
  });
}

}  // namespace updraft::server

namespace updraft::server {
template class SqlStore<sqlite::Database>;
template class SqlStore<postgres::Connection>;
}  // namespace updraft::server
