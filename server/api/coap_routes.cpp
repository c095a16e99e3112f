#include "server/api/coap_routes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "core/codec.h"
#include "core/crc32.h"
#include "core/host/file.h"
#include "server/api/api_errors.h"
#include "server/api/coap_codec.h"
#include "server/services/opaque_ids.h"

namespace updraft::server::api {
namespace {

using net::coap::Block;
using net::coap::Code;
using net::coap::Method;
using net::coap::Request;
using net::coap::Response;

constexpr char kChannel[] = "coap";
constexpr char kRefPurpose[] = "coap-artifact";
constexpr std::uint8_t kDefaultSzx = 6;  // a block request without Block2 gets 1024 bytes
// One answer for unknown devices and wrong MACs: it must not tell which ids exist.
constexpr char kRefused[] = "unknown device or wrong MAC";

Response error_answer(const Error& error) {
  const Code code = coap_code_for(error.code);
  if (code == Code::kUnauthorized) return Response::error(code, kRefused);
  return Response::error(code, error.message);
}

Error refused() { return Error(ErrorCode::kApiUnauthorized, kRefused); }

// Over DTLS the session names the device, which the payload must repeat; over
// plain UDP the payload's MAC must verify under the named device's key.
HostResult<void> authenticate(const Request& request, const CoapSender& sender, ApiContext& ctx) {
  if (request.identity) {
    if (sender.mac)
      return bad_request("mac length: 0 over DTLS, where the session names the device");
    if (*request.identity != sender.device.value) return refused();
    return {};
  }
  if (!sender.mac) return refused();
  HostResult<Device> device = ctx.fleet.device(sender.device);
  if (!device.ok())
    return device.error().code == ErrorCode::kApiNotFound ? refused() : device.error();
  if (device->secret_hash.empty() ||
      !coap_mac_matches(request.payload, sender, device->secret_hash)) {
    return refused();
  }
  return {};
}

Response check_in(const Request& request, ApiContext& ctx, const OpaqueIds& refs) {
  HostResult<CoapCheckIn> in = coap_check_in_from_bytes(request.payload);
  if (!in.ok()) return error_answer(in.error());
  if (HostResult<void> who = authenticate(request, in->sender, ctx); !who.ok())
    return error_answer(who.error());
  in->request.channel = kChannel;
  HostResult<CheckInAnswer> answer =
      ctx.updates.check_in(in->sender.device, in->request, ctx.now());
  if (!answer.ok()) return error_answer(answer.error());
  CoapCheckInAnswer out;
  out.poll_seconds = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(answer->poll_seconds, 0, std::numeric_limits<std::uint32_t>::max()));
  if (answer->update) {
    out.update = true;
    out.forced = answer->force;
    out.kind = answer->kind == "delta" ? kCoapArtifactPatch : kCoapArtifactFull;
    out.artifact_size = static_cast<std::uint32_t>(answer->artifact_size);
    out.ref = refs.make(answer->deployment);
    out.manifest = std::move(answer->manifest);
  }
  HostResult<std::vector<std::byte>> bytes = coap_answer_to_bytes(out);
  if (!bytes.ok()) return error_answer(bytes.error());
  Response response;
  response.code = Code::kContent;
  response.payload = std::move(*bytes);
  return response;
}

Response artifact(const Request& request, ApiContext& ctx, const OpaqueIds& refs) {
  const std::string ref = request.path.size() == 2 ? request.path[1] : std::string();
  const Response unknown = Response::error(Code::kNotFound, "no artifact \"" + ref + "\"");
  const std::optional<DeploymentId> id = refs.parse(ref);
  if (request.path.size() != 2 || !id) return unknown;
  const Block want = request.block2.value_or(Block{0, false, kDefaultSzx});
  if (want.szx < kCoapMinSzx || want.szx > kCoapMaxSzx)
    return Response::error(Code::kBadOption, "Block2: SZX 2..6 (64 to 1024 bytes)");
  HostResult<Deployment> deployment = ctx.campaigns.deployment(*id);
  if (!deployment.ok()) {
    return deployment.error().code == ErrorCode::kApiNotFound ? unknown
                                                              : error_answer(deployment.error());
  }
  HostResult<DeltaCache::Artifact> file = ctx.updates.artifact(deployment->device, *id);
  if (!file.ok()) {
    return file.error().code == ErrorCode::kApiNotFound ? unknown : error_answer(file.error());
  }
  const std::uint64_t offset = std::uint64_t{want.num} * want.size();
  if (offset >= file->size && !(want.num == 0 && file->size == 0)) {
    return Response::error(Code::kBadOption, "Block2: block " + std::to_string(want.num) +
                                                 " is past the end (" + std::to_string(file->size) +
                                                 " bytes)");
  }
  Response response;
  response.payload.resize(
      static_cast<std::size_t>(std::min<std::uint64_t>(want.size(), file->size - offset)));
  const int fd = ::open(file->path.c_str(), O_RDONLY | O_CLOEXEC);
  const bool read =
      fd >= 0 && read_at(fd, response.payload.data(), response.payload.size(), offset);
  if (fd >= 0) ::close(fd);
  if (!read) {
    return error_answer(Error(ErrorCode::kIoError, "cannot read the artifact of deployment " +
                                                       std::to_string(id->value)));
  }
  response.code = Code::kContent;
  response.block2 = Block{want.num, offset + response.payload.size() < file->size, want.szx};
  std::vector<std::byte> crc(4);
  store_le32(crc.data(), crc32(response.payload));
  response.options.push_back({kCoapBlockCrc32Option, std::move(crc)});
  ctx.metrics.download_bytes.fetch_add(response.payload.size(), std::memory_order_relaxed);
  return response;
}

// Deployment 0 in a report: the device's newest deployment that was offered to
// it (a device that rebooted into the new image may have lost the reference).
HostResult<DeploymentId> last_offered(ApiContext& ctx, const DeviceId& device) {
  UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, ctx.fleet.deployments_of(device));
  const auto it = std::find_if(all.rbegin(), all.rend(),
                               [](const Deployment& d) { return !d.artifact_kind.empty(); });
  if (it == all.rend())
    return Error(ErrorCode::kApiNotFound, "no update was offered to this device");
  return it->id;
}

Response report(const Request& request, ApiContext& ctx) {
  HostResult<CoapReport> in = coap_report_from_bytes(request.payload);
  if (!in.ok()) return error_answer(in.error());
  if (HostResult<void> who = authenticate(request, in->sender, ctx); !who.ok())
    return error_answer(who.error());
  HostResult<DeploymentId> id =
      in->deployment != 0 ? DeploymentId{in->deployment} : last_offered(ctx, in->sender.device);
  if (!id.ok()) return error_answer(id.error());
  HostResult<Deployment> done = ctx.updates.report(in->sender.device, *id, in->report, ctx.now());
  if (!done.ok()) return error_answer(done.error());
  Response response;
  response.code = Code::kChanged;
  return response;
}

}  // namespace

Code coap_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kApiBadRequest:
    case ErrorCode::kInvalidArgument:
      return Code::kBadRequest;
    case ErrorCode::kApiUnauthorized:
    case ErrorCode::kApiForbidden:
      return Code::kUnauthorized;
    case ErrorCode::kApiNotFound:
    case ErrorCode::kStoreNotFound:
      return Code::kNotFound;
    // 4.09 Conflict: the request does not fit the deployment's state (final).
    case ErrorCode::kApiGone:
    case ErrorCode::kApiConflict:
    case ErrorCode::kApiNotAcceptable:
      return Code::kConflict;
    case ErrorCode::kApiUnavailable:
    case ErrorCode::kStoreBusy:
      return Code::kServiceUnavailable;
    default:
      return Code::kInternalServerError;
  }
}

std::optional<std::string> coap_psk_key(ApiContext& context, std::string_view identity) {
  if (!valid_device_id(identity)) return std::nullopt;
  HostResult<Device> device = context.fleet.device(DeviceId{std::string(identity)});
  if (!device.ok() || device->secret_hash.empty()) return std::nullopt;
  return device->secret_hash;
}

void add_coap_routes(net::coap::CoapServer& server, ApiContext& context, const DeviceTokens& keys) {
  const OpaqueIds refs(keys, kRefPurpose);
  server.handle(Method::kPost, "c",
                [&context, refs](const Request& r) { return check_in(r, context, refs); });
  server.handle(Method::kGet, "a",
                [&context, refs](const Request& r) { return artifact(r, context, refs); });
  server.handle(Method::kPost, "r", [&context](const Request& r) { return report(r, context); });
}

}  // namespace updraft::server::api
