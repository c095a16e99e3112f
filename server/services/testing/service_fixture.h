// The whole service layer of updraftd on an in-memory SQLite store, for the
// services' unit tests: no process, no socket. Release images, patches and keys
// go to a temporary folder that TearDown removes. The clock is the test's `now_`.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "delta/testing/test_images.h"
#include "server/deltas/delta_cache.h"
#include "server/services/campaign_service.h"
#include "server/services/credentials.h"
#include "server/services/ddi_service.h"
#include "server/services/enos_service.h"
#include "server/services/event_bus.h"
#include "server/services/fleet_service.h"
#include "server/services/metrics.h"
#include "server/services/release_service.h"
#include "server/services/server_keys.h"
#include "server/services/update_service.h"
#include "server/storage/sqlite/sqlite_store.h"

namespace updraft::server::testing {

using Bytes = std::vector<std::byte>;

// Keeps every event published on the bus, for assertions.
class RecordingSink final : public EventSink {
 public:
  struct Event {
    std::string type;
    std::string data;
  };
  bool send(std::string_view type, std::string_view data) override;
  bool closed() const override { return false; }
  std::vector<Event> events() const;
  // Events of `type` whose data contains `needle`.
  std::size_t count(std::string_view type, std::string_view needle = {}) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

class ServiceFixture : public ::testing::Test {
 protected:
  static constexpr UnixTime kStart = 1'800'000'000;  // 2027-01-15, a Friday, 08:00 UTC

  void SetUp() override;
  void TearDown() override;

  // Builds the services on a new store; tests that need other settings call it
  // again first thing.
  void build(UpdateSettings settings = {}, DeltaCache::Options delta_options = {});
  void destroy();

  Product add_product(const std::string& name, const std::string& profile = "mcu-tiny",
                      const std::string& provisioning_secret = "");
  NewDevice add_device(const std::string& id, const std::string& product,
                       const std::string& hardware = "board-a", std::vector<std::string> tags = {});
  Release upload(const std::string& product, const std::string& version, std::uint32_t counter,
                 const Bytes& image, std::vector<std::string> hardware = {"board-a"},
                 const std::string& enos_version = "");
  // A campaign of `release` over the product's devices, one phase of 100 %, started.
  Campaign start_campaign(const Release& release, Campaign spec = {});
  // A check-in as the device makes it, running `image` as `version`.
  CheckInAnswer check_in(const std::string& device, const std::string& version, const Bytes& image,
                         UnixTime at = 0);
  Deployment report(const std::string& device, DeploymentId id, const std::string& phase,
                    int error = 0, int progress = -1);
  Deployment deployment(DeploymentId id);

  static std::string sha256_hex(const Bytes& bytes);

  std::filesystem::path dir_;
  UnixTime now_ = kStart;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<DirectoryArtifactStore> artifacts_;  // images and patches under dir_
  std::optional<ServerKeys> keys_;
  std::optional<DeviceTokens> device_tokens_;
  EventBus events_;
  std::shared_ptr<RecordingSink> recorded_ = std::make_shared<RecordingSink>();
  Metrics metrics_;
  // Declared in dependency order: destroyed in reverse, the cache's workers last.
  std::unique_ptr<DeltaCache> deltas_;
  std::unique_ptr<StatusQueue> statuses_;
  std::unique_ptr<FleetService> fleet_;
  std::unique_ptr<ReleaseService> releases_;
  std::unique_ptr<CampaignService> campaigns_;
  std::unique_ptr<UpdateService> updates_;
  std::unique_ptr<ArtifactDigests> digests_;
  std::unique_ptr<DdiService> ddi_;
  std::unique_ptr<EnosService> enos_;
};

}  // namespace updraft::server::testing
