// The fleet's records and who may touch them: products, devices and API tokens.
// Every way a device comes to exist goes through register_device() with one set
// of rules (an operator, the device itself with its product's provisioning
// secret, a DDI gateway), so an id or a hardware name that no manifest could
// carry is refused at the door.
//
// Credentials end at once: a revoked admin token, a replaced device secret and a
// decommissioned device are refused by the next request. Two caches keep that
// cheap and are changed with the store, so they never answer stale:
// - admin tokens by hash, with their expiry, revocation and last use (written at
//   most once a minute per token);
// - the devices whose tokens were ever ended (generation above 0 or
//   decommissioned), loaded once; a device token's generation is compared with it,
//   so a check-in costs no database read. All writes go through this class: a
//   second server process on the same database would not see them.
// Host only; thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/host/error.h"
#include "server/services/credentials.h"
#include "server/storage/store.h"

namespace updraft::server {

// 1..64 of [A-Za-z0-9._:-]: a device id fits a URL path, an MQTT topic and a log line.
bool valid_device_id(std::string_view id);
// What a manifest can name (manifest/manifest.h): 1..32 printable ASCII, no spaces.
bool valid_hardware_id(std::string_view hardware);
bool valid_product_name(std::string_view name);
// A serial number: 1..64 printable ASCII characters without spaces.
bool valid_serial(std::string_view serial);

// What may change on a product that exists: how it waits for deltas. Its name,
// profile and flash layout stay: releases and devices were made for them.
struct ProductChanges {
  std::optional<std::string> while_delta_builds;  // as in ProductSpec
  std::optional<std::uint32_t> delta_budget_seconds;
};

struct ProductSpec {
  std::string name;
  std::string profile = "mcu-tiny";  // mcu-tiny, mcu or linux (delta/format/patch_format.h)
  std::uint32_t slot_size = 0;
  std::uint32_t sector_size = 4096;
  // Lets devices register themselves: at least 16 characters, "generate" for a
  // random one, or empty for none.
  std::string provisioning_secret;
  // While a delta builds: "retry" (devices come back in a few seconds) or
  // "full-image" (they take the whole image now).
  std::string while_delta_builds = "retry";
  // Seconds a device waits for its delta before it gets the full image; 0: no limit.
  std::uint32_t delta_budget_seconds = 0;
};

struct NewProduct {
  Product product;
  std::string provisioning_secret;  // in clear, shown once; empty when none
};

struct DeviceSpec {
  DeviceId id;
  std::string product;  // by name
  std::string hardware;
  std::vector<std::string> tags;
  std::string serial;  // "" for none
  std::string secret;  // at least 16 characters; empty: one is generated
};

struct NewDevice {
  Device device;
  std::string secret;  // in clear, shown once; empty for DDI controllers
};

// Who registers a device, for the rules and the audit line.
enum class Registrar : std::uint8_t {
  kOperator,    // the admin API; actor is the token's name
  kSelf,        // the device, with its product's provisioning secret
  kDdiGateway,  // a hawkBit gateway token; the device authenticates by it
  kEnos,        // an EnOS sub-device's first check, with its serial number
};

struct DeviceQuery {
  std::string product;  // by name; "" = any
  DeviceFilter filter;  // its product is filled from `product`
  std::string state;    // the state of its latest deployment, by name; "" = any
};

struct DeviceRow {
  Device device;
  std::optional<Deployment> open;    // the unfinished deployment, if any
  std::optional<Deployment> latest;  // the newest in any state (its last error)
};

struct DevicePage {
  std::vector<DeviceRow> devices;
  std::size_t total = 0;
};

struct DeviceToken {
  std::string token;
  UnixTime expires_at = 0;
};

struct NewToken {
  ApiToken token;
  std::string secret;  // in clear, shown once
};

struct DecommissionedDevice {
  Device device;
  std::vector<Deployment> canceled;  // its unfinished deployments, now canceled
};

// A single-use pass to the event stream for clients that cannot send headers
// (the browser's EventSource).
struct EventTicket {
  std::string ticket;
  UnixTime expires_at = 0;
};

class FleetService {
 public:
  FleetService(Store& store, const DeviceTokens& device_tokens,
               std::int64_t device_token_seconds = 24 * 3600)
      : store_(store), device_tokens_(device_tokens), device_token_seconds_(device_token_seconds) {}

  // --- Products. kApiBadRequest naming the field, kApiConflict for a taken name.
  HostResult<NewProduct> create_product(const ProductSpec& spec, const std::string& actor,
                                        UnixTime now);
  // Changes what is set in `changes` (the rest stays), audited as product.update.
  HostResult<Product> update_product(const std::string& name, const ProductChanges& changes,
                                     const std::string& actor, UnixTime now);
  HostResult<std::vector<Product>> products();
  // kApiNotFound "no product <name>".
  HostResult<Product> product(const std::string& name);
  HostResult<Product> product(ProductId id);
  // Deletes a product with no devices, releases or campaigns, audited as
  // "product.delete". kApiNotFound; kApiConflict saying what it still has.
  HostResult<Product> remove_product(const std::string& name, const std::string& actor,
                                     UnixTime now);

  // --- Devices.
  // Registers `spec` by the rules above. `provisioning_secret` is checked for
  // kSelf (kApiUnauthorized, one answer for unknown product and wrong secret).
  // kDdiGateway and kEnos register without a secret (kEnos needs a serial), and
  // a device that a parallel first poll registered a moment ago is returned as
  // is. kApiBadRequest naming the field, kApiConflict when the id is taken.
  HostResult<NewDevice> register_device(const DeviceSpec& spec, Registrar registrar,
                                        const std::string& actor, UnixTime now,
                                        std::string_view provisioning_secret = {});
  // kApiNotFound "no device <id>".
  HostResult<Device> device(const DeviceId& id);
  // The device with this serial number, or nullopt.
  HostResult<std::optional<Device>> device_by_serial(const std::string& serial);
  HostResult<DevicePage> devices(const DeviceQuery& query);
  HostResult<std::vector<Deployment>> deployments_of(const DeviceId& id);
  // What happened to the device's deployments, newest first; kApiNotFound for an
  // unknown device.
  HostResult<HistoryPage> history(const DeviceId& id, std::size_t limit, std::size_t offset);
  // The log lines devices attached to the deployment's reports, oldest first.
  HostResult<LogPage> deployment_log(DeploymentId id, std::size_t limit, std::size_t offset);
  HostResult<Device> set_tags(const DeviceId& id, const std::vector<std::string>& tags,
                              const std::string& actor, UnixTime now);
  // "" removes it.
  HostResult<Device> set_serial(const DeviceId& id, const std::string& serial,
                                const std::string& actor, UnixTime now);

  // Replaces the device's secret with `secret` (at least 16 characters; empty: a
  // random one) and ends its tokens: the old secret and every device token issued
  // before stop working. Returns the secret once. kApiNotFound, kApiConflict for a
  // decommissioned device, kApiBadRequest "secret: ...". Audited.
  HostResult<NewDevice> rotate_device_secret(const DeviceId& id, const std::string& secret,
                                             const std::string& actor, UnixTime now);
  // Takes the device out of service: its tokens end, it can get no new one, its
  // unfinished deployments are canceled (the caller publishes them). The record
  // stays, with decommissioned_at. kApiNotFound, kApiConflict when already done.
  // Audited.
  HostResult<DecommissionedDevice> decommission_device(const DeviceId& id, const std::string& actor,
                                                       UnixTime now);

  // A bearer token for a device that proves its secret; one kApiUnauthorized for
  // unknown device, wrong secret and decommissioned device.
  HostResult<DeviceToken> issue_device_token(const DeviceId& id, std::string_view secret,
                                             UnixTime now);
  // The device a bearer token names; kApiUnauthorized if forged, expired, or
  // ended by a secret rotation or a decommissioning.
  HostResult<DeviceId> authenticate_device(std::string_view token, UnixTime now);

  // --- Admin API tokens.
  // kApiBadRequest for a name outside 1..64 characters, an unknown role, or an
  // expiry (`expires_at`, 0 for none) not after `now`.
  HostResult<NewToken> create_token(const std::string& name, std::string_view role,
                                    const std::string& actor, UnixTime now,
                                    UnixTime expires_at = 0);
  HostResult<std::vector<ApiToken>> tokens();
  // Revokes token `id` at once (cache included). Revoking a revoked token returns
  // it unchanged. kApiNotFound; kApiConflict when it is the last active admin
  // token, so the API always keeps an admin (a token revoking itself is allowed
  // otherwise). Audited.
  HostResult<ApiToken> revoke_token(TokenId id, const std::string& actor, UnixTime now);
  // The token whose secret this is, if it is active at `now` and has at least
  // `role`: kApiUnauthorized for an unknown, expired or revoked token,
  // kApiForbidden for a lower role. Looked up once, then cached by hash; its last
  // use is written at most once a minute.
  HostResult<ApiToken> authorize(std::string_view secret, Role role, UnixTime now);
  // A ticket for the event stream, for `who`, single-use and valid 60 s, signed
  // with the device-token key so that every server sharing the store takes it.
  // Single use is per server: a ticket spent on one node is refused there again.
  HostResult<EventTicket> issue_event_ticket(const ApiToken& who, UnixTime now);
  // The token a ticket was issued to, checked as authorize() does; the ticket is
  // spent. kApiUnauthorized for an unknown, spent or expired ticket.
  HostResult<ApiToken> redeem_event_ticket(std::string_view ticket, Role role, UnixTime now);
  // The audit log, newest first: at most `limit` lines with ids below `before_id`
  // (0: from the newest).
  HostResult<std::vector<AuditEvent>> audit(std::size_t limit, std::int64_t before_id);
  // With no active admin token (a new server, or every admin token expired or
  // revoked): makes an admin token named "admin" and returns its secret; nullopt
  // otherwise. Whoever can restart the server and read its data recovers access.
  HostResult<std::optional<std::string>> bootstrap_admin_token(UnixTime now);

  static constexpr std::int64_t kLastUseResolutionSeconds = 60;
  static constexpr std::int64_t kEventTicketSeconds = 60;

 private:
  HostResult<ApiToken> authorize_hash(const std::string& hash, Role role, UnixTime now);
  void forget_token(TokenId id);
  // Raises the device's entry in the ended-tokens cache to `state`: generations only
  // grow and a decommissioning is final, so updates may land in any order.
  void note_ended_tokens(const DeviceTokenState& state);
  HostResult<void> load_ended_tokens();

  Store& store_;
  const DeviceTokens& device_tokens_;
  std::int64_t device_token_seconds_;
  std::mutex token_cache_mutex_;
  std::unordered_map<std::string, ApiToken> token_cache_;  // by token_sha256
  std::uint64_t revocations_ = 0;                          // forget_token() calls
  std::mutex ended_tokens_mutex_;
  bool ended_tokens_loaded_ = false;
  std::unordered_map<DeviceId, DeviceTokenState> ended_tokens_;
  std::mutex tickets_mutex_;
  std::unordered_map<std::string, UnixTime> spent_tickets_;  // nonce -> expiry
};

}  // namespace updraft::server
