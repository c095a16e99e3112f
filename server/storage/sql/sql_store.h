// The Store in SQL, once for both databases: SqlStore<sqlite::Database> (the
// embedded default, SqliteStore) and SqlStore<postgres::Connection> (PostgresStore,
// several servers on one database). The queries use what SQLite and PostgreSQL
// share (?N parameters, RETURNING, ON CONFLICT, savepoints); each subclass opens
// its database and applies its own migrations.
//
// Threads: one connection behind a recursive mutex; every method may be called
// from any thread, and a thread inside transaction() may call the store again.
// Device tags are a set: they come back sorted, without duplicates.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "server/storage/migrations/migrations.h"
#include "server/storage/store.h"

namespace updraft::server {

// Db: a connection with prepare(sql) -> HostResult<Db::Statement>, whose Statement
// has bind(), step(), run(), changes() and column<T>(); Db::kBeginTransaction opens
// the outermost transaction.
template <typename Db>
class SqlStore : public Store {
 public:
  HostResult<void> transaction(const std::function<HostResult<void>()>& work) override;

  HostResult<Product> create_product(const Product& product) override;
  HostResult<void> update_product(const Product& product) override;
  HostResult<Product> product(ProductId id) override;
  HostResult<Product> product_by_name(const std::string& name) override;
  HostResult<std::vector<Product>> products() override;
  HostResult<void> delete_product(ProductId id) override;

  HostResult<void> create_device(const Device& device) override;
  HostResult<Device> device(const DeviceId& id) override;
  HostResult<std::vector<Device>> devices(const DeviceFilter& filter) override;
  HostResult<std::size_t> count_devices(const DeviceFilter& filter) override;
  HostResult<void> set_device_tags(const DeviceId& id,
                                   const std::vector<std::string>& tags) override;
  HostResult<void> set_device_secret(const DeviceId& id, const std::string& secret_hash) override;
  HostResult<void> decommission_device(const DeviceId& id, UnixTime at) override;
  HostResult<std::vector<DeviceTokenState>> ended_device_tokens() override;
  HostResult<void> set_device_serial(const DeviceId& id, const std::string& serial) override;
  HostResult<void> record_status(const DeviceId& id, const DeviceStatusReport& status) override;

  HostResult<Release> create_release(const Release& release) override;
  HostResult<Release> release(ReleaseId id) override;
  HostResult<Release> release_by_version(ProductId product, const std::string& version) override;
  HostResult<Release> release_by_image(ProductId product, const std::string& sha256) override;
  HostResult<std::vector<Release>> releases(std::optional<ProductId> product) override;
  HostResult<Page<Release>> release_page(std::optional<ProductId> product, std::size_t limit,
                                         std::size_t offset) override;
  HostResult<void> delete_release(ReleaseId id) override;

  HostResult<void> put_delta(const DeltaRecord& delta) override;
  HostResult<DeltaRecord> delta(const std::string& from_sha256, const std::string& to_sha256,
                                delta::Profile profile) override;
  HostResult<std::vector<DeltaRecord>> deltas() override;
  HostResult<void> delete_delta(const std::string& from_sha256, const std::string& to_sha256,
                                delta::Profile profile) override;
  HostResult<HistoryPage> device_history(const DeviceId& device, std::size_t limit,
                                         std::size_t offset) override;
  HostResult<std::size_t> append_deployment_log(DeploymentId id, UnixTime at,
                                                const std::vector<std::string>& lines,
                                                std::size_t max_lines) override;
  HostResult<LogPage> deployment_log(DeploymentId id, std::size_t limit,
                                     std::size_t offset) override;
  HostResult<bool> queue_delta_build(const DeltaRecord& job) override;
  HostResult<std::optional<DeltaRecord>> take_delta_build(UnixTime now,
                                                          UnixTime stale_before) override;

  HostResult<Campaign> create_campaign(const Campaign& campaign) override;
  HostResult<void> update_campaign(const Campaign& campaign) override;
  HostResult<Campaign> campaign(CampaignId id) override;
  HostResult<std::vector<Campaign>> campaigns() override;
  HostResult<Page<Campaign>> campaign_page(std::size_t limit, std::size_t offset) override;
  HostResult<void> delete_campaign(CampaignId id) override;

  HostResult<void> create_deployments(std::vector<Deployment>& deployments) override;
  HostResult<void> update_deployment(const Deployment& deployment) override;
  HostResult<Deployment> deployment(DeploymentId id) override;
  HostResult<std::vector<Deployment>> deployments(const DeploymentFilter& filter) override;
  HostResult<Deployment> open_deployment(const DeviceId& device) override;
  HostResult<std::vector<std::pair<DeploymentState, std::size_t>>> count_deployments(
      std::optional<CampaignId> campaign) override;
  HostResult<std::size_t> count_deployments_in_state(CampaignId campaign,
                                                     DeploymentState state) override;
  HostResult<std::size_t> count_in_flight(ProductId product, const std::string& channel,
                                          UnixTime since) override;

  HostResult<AuditEvent> append_audit(const AuditEvent& event) override;
  HostResult<std::vector<AuditEvent>> audit(std::size_t limit, std::int64_t before_id) override;

  HostResult<std::string> setting(const std::string& key) override;
  HostResult<void> set_setting(const std::string& key, const std::string& value) override;
  HostResult<std::string> setting_or_set(const std::string& key, const std::string& value) override;

  HostResult<MenderAuthSet> create_auth_set(const MenderAuthSet& set) override;
  HostResult<MenderAuthSet> auth_set(std::int64_t id) override;
  HostResult<MenderAuthSet> auth_set_by_key(const std::string& id_data,
                                            const std::string& pubkey) override;
  HostResult<Page<MenderAuthSet>> auth_sets(std::optional<AuthSetStatus> status, std::size_t limit,
                                            std::size_t offset) override;
  HostResult<void> update_auth_set(const MenderAuthSet& set) override;
  HostResult<void> put_inventory(const DeviceId& device,
                                 const std::vector<InventoryAttribute>& attributes,
                                 bool replace_all) override;
  HostResult<std::vector<InventoryAttribute>> inventory(const DeviceId& device) override;

  HostResult<ApiToken> create_token(const ApiToken& token) override;
  HostResult<ApiToken> token(TokenId id) override;
  HostResult<ApiToken> token_by_hash(const std::string& token_sha256) override;
  HostResult<std::vector<ApiToken>> tokens() override;
  HostResult<void> revoke_token(TokenId id, UnixTime at) override;
  HostResult<void> set_token_last_used(TokenId id, UnixTime at) override;

 protected:
  using Statement = typename Db::Statement;
  explicit SqlStore(Db db) : db_(std::move(db)) {}

  // Applies known[version], known[version + 1], ... each in its own transaction
  // with the version it reaches. read_version runs first in each transaction and
  // must lock out other processes migrating the same database until it ends.
  // kStoreMigration for a schema newer than `known` or a migration that fails.
  HostResult<void> apply_migrations(
      std::span<const Migration> known,
      const std::function<HostResult<std::int64_t>()>& read_version,
      const std::function<HostResult<void>(std::int64_t)>& write_version);

  std::recursive_mutex mutex_;
  Db db_;

 private:
  // Runs each of `statements` (one ?1: the id) in one transaction, labelled
  // `what`; kStoreNotFound when the last removed no row.
  HostResult<void> delete_by_id(const std::string& what,
                                std::initializer_list<const char*> statements, std::int64_t id);
  HostResult<std::vector<std::string>> tags_of(const DeviceId& id);
  // The one number `sql` (a SELECT count(*)) answers; `bind` binds its parameters.
  HostResult<std::size_t> count(const std::string& sql,
                                const std::function<void(Statement&)>& bind);
  HostResult<std::vector<Device>> read_devices(Statement& statement);

  int depth_ = 0;  // transaction() calls under way on the locked thread
};

}  // namespace updraft::server
