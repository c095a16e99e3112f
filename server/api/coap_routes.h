// The CoAP device API (docs/formats/coap.md) on a net::coap::CoapServer:
//   POST /c        check-in (UpdateService::check_in, channel "coap")
//   GET  /a/<ref>  one Block2 block of an offered artifact, with the CRC option
//   POST /r        report (UpdateService::report)
// Who is asking: over DTLS the PSK identity (coap_psk_key() gives the keys); over
// plain UDP the MAC each check-in and report ends with. An artifact reference is
// an OpaqueIds id of purpose "coap-artifact", so it needs no credentials.
// Errors map to CoAP codes with a diagnostic payload (coap_code_for). Handlers run
// on the CoAP server's one thread: a check-in or block whose patch is being built
// holds it up to UpdateSettings::delta_wait, as it holds an HTTP loop.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "net/coap/coap_server.h"
#include "server/api/api_context.h"
#include "server/services/credentials.h"

namespace updraft::server::api {

// Registers the routes on `server`, before its start(); `context` must outlive it.
// `keys` (the server's token key) also makes the artifact references.
void add_coap_routes(net::coap::CoapServer& server, ApiContext& context, const DeviceTokens& keys);

// The DTLS pre-shared key of the device named `identity`: the 64 lower-case hex
// characters of SHA-256(its secret), as stored. nullopt for an unknown device or
// one without a secret (a DDI or EnOS device), which refuses the handshake.
std::optional<std::string> coap_psk_key(ApiContext& context, std::string_view identity);

// The CoAP answer for an error of the services: 4.00, 4.01, 4.04, 4.09, 5.03, else 5.00.
net::coap::Code coap_code_for(ErrorCode code);

}  // namespace updraft::server::api
