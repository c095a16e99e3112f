// What the server keeps for Mender clients (docs/api/mender.md): authentication
// sets, which admit a device, and the inventory a device reports.
#pragma once

#include <cstdint>
#include <string>

#include "server/model/ids.h"

namespace updraft::server {

enum class AuthSetStatus : std::uint8_t {
  kPending = 1,        // asked, waits for an operator
  kAccepted = 2,       // gets tokens
  kRejected = 3,       // gets 401
  kPreauthorized = 4,  // entered by an operator before the device asked; accepted on its first ask
};

// One identity with one public key. A device that changes its key makes a new set.
struct MenderAuthSet {
  std::int64_t id = 0;
  std::string id_data;  // the client's identity, canonical JSON ({"mac":"..."})
  std::string pubkey;   // PEM, as the client sent it
  AuthSetStatus status = AuthSetStatus::kPending;
  DeviceId device;  // the Updraft device it admits; "" until accepted
  UnixTime created_at = 0;
  UnixTime updated_at = 0;
};

// One inventory attribute; `value` is JSON text (a string, number or list).
struct InventoryAttribute {
  std::string name;
  std::string value;
  UnixTime updated_at = 0;
};

}  // namespace updraft::server
