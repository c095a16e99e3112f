// `updraft keygen --algorithm ed25519|p256|rsa-2048-pss|rsa-3072-pss -o NAME`: a new
// signing key pair in NAME.key (private, mode 0600) and NAME.pub, and the key id root
// metadata will use.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/host/key_file.h"
#include "manifest/host/key_ids.h"

namespace updraft::cli {
namespace {

struct KeygenArgs {
  std::string algorithm = "ed25519";
  std::string name;
};

int run_keygen(const KeygenArgs& args) {
  HostResult<SignatureAlgorithm> algorithm = algorithm_from_name(args.algorithm);
  if (!algorithm.ok()) return report_error(algorithm.error());
  HostResult<SigningKey> key = SigningKey::generate(*algorithm);
  if (!key.ok()) return report_error(key.error());
  if (auto written = write_key_pair(*key, args.name); !written.ok())
    return report_error(written.error());
  std::printf("%s.key  private key (%s); keep it offline, readable by you only\n",
              args.name.c_str(), args.algorithm.c_str());
  std::printf("%s.pub  public key, key id %s\n", args.name.c_str(),
              manifest::key_id_hex(manifest::key_id_of(key->public_key())).c_str());
  return 0;
}

}  // namespace

void add_keygen_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<KeygenArgs>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Make a signing key pair: NAME.key (private, 0600) and NAME.pub");
  cmd->add_option("-a,--algorithm", args->algorithm,
                  "ed25519 (default), p256 (ECDSA P-256, SHA-256), rsa-2048-pss or "
                  "rsa-3072-pss (RSASSA-PSS, SHA-256, exponent 65537)")
      ->check(CLI::IsMember({"ed25519", "p256", "rsa-2048-pss", "rsa-3072-pss"}));
  cmd->add_option("-o,--output", args->name,
                  "Name of the pair: writes NAME.key and NAME.pub, never over existing files")
      ->required();
  cmd->callback([args, &exit_code] { exit_code = run_keygen(*args); });
}

}  // namespace updraft::cli
