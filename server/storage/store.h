// The server's persistent state behind one interface: the only way server code
// reaches the database. SQLite (storage/sqlite) is the embedded default;
// PostgreSQL can implement the same interface and must pass store_test.cpp.
//
// Errors: kStoreNotFound for a missing record, kStoreConflict for a duplicate key
// (product name, device id, device serial, release version per product), kStoreIo / kStoreBusy /
// kStoreCorrupt for the database itself, each with a message naming the record.
// Threads: every method may be called from any thread; the implementation serializes.
// Durability: a method that returned ok has committed; a crash of the process
// (kill -9) afterwards loses none of it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/host/error.h"
#include "server/model/audit.h"
#include "server/model/campaign.h"
#include "server/model/fleet.h"
#include "server/model/mender.h"

namespace updraft::server {

struct DeviceFilter {
  std::optional<ProductId> product;
  std::string hardware;                  // "" = any
  std::string version;                   // running version, "" = any
  std::string tag;                       // carries this tag, "" = any
  std::string serial;                    // has this serial number, "" = any
  std::string id_prefix;                 // its id starts with this, "" = any
  std::optional<DeploymentState> state;  // its latest deployment is in this state
  std::optional<UnixTime> seen_after;    // last seen at or after
  std::optional<UnixTime> seen_before;   // last seen before
  std::size_t limit = 1000;
  std::size_t offset = 0;  // ordered by device id
};

// What a device token is checked against: the device's current token generation,
// and whether it is decommissioned.
struct DeviceTokenState {
  DeviceId device;
  std::uint32_t generation = 0;
  bool decommissioned = false;
};

struct DeploymentFilter {
  std::optional<CampaignId> campaign;
  std::optional<DeviceId> device;
  std::optional<DeploymentState> state;
  std::size_t limit = 100000;
  std::size_t offset = 0;  // ordered by deployment id
};

// One page of a device's history, newest first, and how many entries it has in all.
struct HistoryPage {
  std::vector<DeploymentHistoryEntry> entries;
  std::size_t total = 0;
};

// One page of a deployment's log, oldest first; `total` lines are kept and
// `dropped` more were refused past the bound.
struct LogPage {
  std::vector<DeploymentLogLine> lines;
  std::size_t total = 0;
  std::uint64_t dropped = 0;
};

// One page of a list, newest first, and how many records the list has in all.
template <typename T>
struct Page {
  std::vector<T> items;
  std::size_t total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `work` in one transaction: all of its writes commit, or none. Nested
  // calls join the outer transaction.
  virtual HostResult<void> transaction(const std::function<HostResult<void>()>& work) = 0;

  // Products. create_* fill in the id and return the stored record.
  virtual HostResult<Product> create_product(const Product& product) = 0;
  virtual HostResult<void> update_product(const Product& product) = 0;
  virtual HostResult<Product> product(ProductId id) = 0;
  virtual HostResult<Product> product_by_name(const std::string& name) = 0;
  virtual HostResult<std::vector<Product>> products() = 0;
  // Removes the product's row; kStoreNotFound if absent. The caller checks that
  // nothing refers to it (devices, releases, campaigns): the schema refuses otherwise.
  virtual HostResult<void> delete_product(ProductId id) = 0;

  // Devices.
  virtual HostResult<void> create_device(const Device& device) = 0;
  virtual HostResult<Device> device(const DeviceId& id) = 0;
  virtual HostResult<std::vector<Device>> devices(const DeviceFilter& filter) = 0;
  virtual HostResult<std::size_t> count_devices(const DeviceFilter& filter) = 0;
  virtual HostResult<void> set_device_tags(const DeviceId& id,
                                           const std::vector<std::string>& tags) = 0;
  // Replaces the device's secret and bumps its token generation, so the device
  // tokens issued before stop verifying.
  virtual HostResult<void> set_device_secret(const DeviceId& id,
                                             const std::string& secret_hash) = 0;
  // Takes the device out of service at `at` (> 0): clears its secret and bumps its
  // token generation. The record stays.
  virtual HostResult<void> decommission_device(const DeviceId& id, UnixTime at) = 0;
  // Every device whose tokens were ever ended (token generation above 0, or
  // decommissioned): what a token check compares a token's generation with.
  virtual HostResult<std::vector<DeviceTokenState>> ended_device_tokens() = 0;
  virtual HostResult<void> set_device_serial(const DeviceId& id, const std::string& serial) = 0;
  // What the device said at check-in (version, image, slot, battery, network, time).
  virtual HostResult<void> record_status(const DeviceId& id, const DeviceStatusReport& status) = 0;

  // Releases.
  virtual HostResult<Release> create_release(const Release& release) = 0;
  virtual HostResult<Release> release(ReleaseId id) = 0;
  virtual HostResult<Release> release_by_version(ProductId product, const std::string& version) = 0;
  // The release of `product` whose image has this SHA-256 (the image a device runs).
  virtual HostResult<Release> release_by_image(ProductId product, const std::string& sha256) = 0;
  virtual HostResult<std::vector<Release>> releases(std::optional<ProductId> product) = 0;
  // `limit` releases from the `offset`-th newest (of one product, or all).
  virtual HostResult<Page<Release>> release_page(std::optional<ProductId> product,
                                                 std::size_t limit, std::size_t offset) = 0;
  // Removes the release's row; kStoreNotFound if absent. The caller checks that
  // no campaign uses it.
  virtual HostResult<void> delete_release(ReleaseId id) = 0;

  // Delta cache index (the patch files live beside the images).
  virtual HostResult<void> put_delta(const DeltaRecord& delta) = 0;  // insert or replace
  virtual HostResult<DeltaRecord> delta(const std::string& from_sha256,
                                        const std::string& to_sha256, delta::Profile profile) = 0;
  virtual HostResult<std::vector<DeltaRecord>> deltas() = 0;
  virtual HostResult<void> delete_delta(const std::string& from_sha256,
                                        const std::string& to_sha256, delta::Profile profile) = 0;
  // The delta build queue, one for every server on the database, so that each
  // patch is built once, by whichever server has a worker free.
  // Queues the build of `job`'s patch (stored with state queued) unless a record
  // of that patch exists; true when this call queued it.
  virtual HostResult<bool> queue_delta_build(const DeltaRecord& job) = 0;
  // Takes the oldest queued build, or a building one whose last_used_at (its
  // builder's heartbeat) is older than `stale_before` (the builder died): the
  // record becomes building with last_used_at `now` and is returned; nullopt
  // when there is none. Two callers never take the same build (on PostgreSQL
  // through FOR UPDATE SKIP LOCKED, so that they do not wait on each other).
  virtual HostResult<std::optional<DeltaRecord>> take_delta_build(UnixTime now,
                                                                  UnixTime stale_before) = 0;

  // Campaigns.
  virtual HostResult<Campaign> create_campaign(const Campaign& campaign) = 0;
  virtual HostResult<void> update_campaign(const Campaign& campaign) = 0;
  virtual HostResult<Campaign> campaign(CampaignId id) = 0;
  virtual HostResult<std::vector<Campaign>> campaigns() = 0;
  // `limit` campaigns from the `offset`-th newest.
  virtual HostResult<Page<Campaign>> campaign_page(std::size_t limit, std::size_t offset) = 0;
  // Removes the campaign with its deployments and their history and logs;
  // kStoreNotFound if absent.
  virtual HostResult<void> delete_campaign(CampaignId id) = 0;

  // Deployments. create_deployments fills in the ids.
  virtual HostResult<void> create_deployments(std::vector<Deployment>& deployments) = 0;
  virtual HostResult<void> update_deployment(const Deployment& deployment) = 0;
  virtual HostResult<Deployment> deployment(DeploymentId id) = 0;
  virtual HostResult<std::vector<Deployment>> deployments(const DeploymentFilter& filter) = 0;
  // The device's deployment that is not final, in a campaign that is running or
  // paused (at most one: a device is in one unfinished campaign at a time);
  // kStoreNotFound when there is none.
  virtual HostResult<Deployment> open_deployment(const DeviceId& device) = 0;
  // The history of every deployment of `device`, newest first (kept by the
  // store on every change; see migrations */..._deployment_history.sql).
  virtual HostResult<HistoryPage> device_history(const DeviceId& device, std::size_t limit,
                                                 std::size_t offset) = 0;
  // Appends `lines` to the deployment's log, keeping at most `max_lines` in all:
  // the lines past that are counted as dropped. Returns how many were kept;
  // kStoreNotFound for an unknown deployment.
  virtual HostResult<std::size_t> append_deployment_log(DeploymentId id, UnixTime at,
                                                        const std::vector<std::string>& lines,
                                                        std::size_t max_lines) = 0;
  virtual HostResult<LogPage> deployment_log(DeploymentId id, std::size_t limit,
                                             std::size_t offset) = 0;
  // Deployments per state, for one campaign or (nullopt) all.
  virtual HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> count_deployments(
      std::optional<CampaignId> campaign) = 0;
  // The campaign's deployments in one state; reads only those rows (an index on
  // campaign and state), so it stays cheap in a campaign of a million devices.
  virtual HostResult<std::size_t> count_deployments_in_state(CampaignId campaign,
                                                             DeploymentState state) = 0;
  // Deployments of `product`'s campaigns in flight over `channel`: offered (an
  // artifact kind is set) and pending, downloading, installing or rebooting, and
  // updated at or after `since`.
  virtual HostResult<std::size_t> count_in_flight(ProductId product, const std::string& channel,
                                                  UnixTime since) = 0;

  // Audit log, newest first; `before_id` 0 = from the newest.
  virtual HostResult<AuditEvent> append_audit(const AuditEvent& event) = 0;
  virtual HostResult<std::vector<AuditEvent>> audit(std::size_t limit, std::int64_t before_id) = 0;

  // Server-wide settings (e.g. the secret that signs device tokens). kStoreNotFound
  // for a key never set.
  virtual HostResult<std::string> setting(const std::string& key) = 0;
  virtual HostResult<void> set_setting(const std::string& key, const std::string& value) = 0;
  // The key's value if it has one, else sets it to `value` and returns that: servers
  // sharing a database that race to create a setting all end with the same one.
  virtual HostResult<std::string> setting_or_set(const std::string& key,
                                                 const std::string& value) = 0;

  // Mender authentication sets (docs/api/mender.md). create_auth_set fills in the
  // id; kStoreConflict when the identity already has a set with this key.
  virtual HostResult<MenderAuthSet> create_auth_set(const MenderAuthSet& set) = 0;
  virtual HostResult<MenderAuthSet> auth_set(std::int64_t id) = 0;
  virtual HostResult<MenderAuthSet> auth_set_by_key(const std::string& id_data,
                                                    const std::string& pubkey) = 0;
  // `limit` sets from the `offset`-th newest, of one status or (nullopt) all.
  virtual HostResult<Page<MenderAuthSet>> auth_sets(std::optional<AuthSetStatus> status,
                                                    std::size_t limit, std::size_t offset) = 0;
  // Writes the set's status, device and updated_at.
  virtual HostResult<void> update_auth_set(const MenderAuthSet& set) = 0;

  // Device inventory: `attributes` are stored (each name once, replacing what it
  // had); with `replace_all`, the device's other attributes are removed.
  virtual HostResult<void> put_inventory(const DeviceId& device,
                                         const std::vector<InventoryAttribute>& attributes,
                                         bool replace_all) = 0;
  // The device's attributes, by name.
  virtual HostResult<std::vector<InventoryAttribute>> inventory(const DeviceId& device) = 0;

  // Admin API tokens.
  virtual HostResult<ApiToken> create_token(const ApiToken& token) = 0;
  virtual HostResult<ApiToken> token(TokenId id) = 0;
  virtual HostResult<ApiToken> token_by_hash(const std::string& token_sha256) = 0;
  virtual HostResult<std::vector<ApiToken>> tokens() = 0;
  // Sets revoked_at.
  virtual HostResult<void> revoke_token(TokenId id, UnixTime at) = 0;
  // Sets last_used_at.
  virtual HostResult<void> set_token_last_used(TokenId id, UnixTime at) = 0;
};

}  // namespace updraft::server
