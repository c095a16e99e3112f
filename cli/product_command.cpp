// `updraft product create NAME --profile P`, `updraft product update NAME
// [settings]`, `updraft product list` and `updraft product enos NAME [settings]`:
// the products the update server knows (creating one and changing its settings
// needs an admin token).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/server_connection.h"
#include "cli/table.h"

namespace updraft::cli {
namespace {

using net::http::Method;

struct ProductArgs {
  std::string name;
  std::string profile;
  std::uint32_t slot_size = 0;
  std::string provisioning_secret;
  std::string while_delta_builds;
  std::uint32_t delta_budget_seconds = 0;
  // EnOS settings (docs/api/enos.md); unset options keep their value.
  std::optional<std::string> sign_method, download_base, hardware;
  std::optional<bool> allow_delta, auto_register;
  std::optional<std::uint32_t> max_concurrent;
  std::optional<std::int64_t> timeout;
};

// The product as create and update print it.
void print_product(const json& product) {
  std::printf("product %s (id %lld): profile %s, slot size %u bytes, while a delta builds: %s\n",
              product.at("name").get<std::string>().c_str(), product.at("id").get<long long>(),
              product.at("profile").get<std::string>().c_str(), product.value("slot_size", 0u),
              product.value("while_delta_builds", "retry").c_str());
  if (const auto budget = product.value("delta_budget_seconds", 0u); budget != 0)
    std::printf("a device waits at most %u s for its delta, then gets the full image\n", budget);
}

HostResult<void> create_product(ServerConnection& server, const ProductArgs& args) {
  json body = {{"name", args.name}, {"profile", args.profile}};
  if (args.slot_size != 0) body["slot_size"] = args.slot_size;
  if (!args.provisioning_secret.empty()) body["provisioning_secret"] = args.provisioning_secret;
  if (!args.while_delta_builds.empty()) body["while_delta_builds"] = args.while_delta_builds;
  if (args.delta_budget_seconds != 0) body["delta_budget_seconds"] = args.delta_budget_seconds;
  UPDRAFT_TRY_ASSIGN(const json product, server.send(Method::kPost, "/api/v1/products", body));
  print_product(product);
  if (product.contains("provisioning_secret")) {
    std::printf(
        "provisioning secret: %s\n  (shown once: devices that know it may register themselves)\n",
        product["provisioning_secret"].get<std::string>().c_str());
  }
  return {};
}

HostResult<void> update_product(ServerConnection& server, const ProductArgs& args,
                                std::optional<std::uint32_t> budget) {
  json changes = json::object();
  if (!args.while_delta_builds.empty()) changes["while_delta_builds"] = args.while_delta_builds;
  if (budget) changes["delta_budget_seconds"] = *budget;
  if (changes.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "nothing to change: give --while-delta-builds or --delta-budget");
  }
  UPDRAFT_TRY_ASSIGN(
      const json product,
      server.send(Method::kPatch, "/api/v1/products/" + url_encode(args.name), changes));
  print_product(product);
  return {};
}

HostResult<void> list_products(ServerConnection& server) {
  UPDRAFT_TRY_ASSIGN(const json answer, server.get("/api/v1/products"));
  std::vector<std::vector<std::string>> rows;
  for (const json& p : answer.at("products")) {
    rows.push_back({std::to_string(p.at("id").get<long long>()), p.at("name").get<std::string>(),
                    p.at("profile").get<std::string>(), std::to_string(p.value("slot_size", 0u)),
                    p.value("self_registration", false) ? "yes" : "no",
                    time_ago(p.value("created_at", std::int64_t{0}))});
  }
  print_table({"ID", "NAME", "PROFILE", "SLOT SIZE", "SELF-REGISTRATION", "CREATED"}, rows);
  return {};
}

HostResult<void> enos_settings(ServerConnection& server, const ProductArgs& args) {
  const std::string target = "/api/v1/products/" + url_encode(args.name) + "/enos";
  json changes = json::object();
  if (args.sign_method) changes["sign_method"] = *args.sign_method;
  if (args.download_base) changes["download_base"] = *args.download_base;
  if (args.hardware) changes["hardware"] = *args.hardware;
  if (args.allow_delta) changes["allow_delta"] = *args.allow_delta;
  if (args.auto_register) changes["auto_register"] = *args.auto_register;
  if (args.max_concurrent) changes["max_concurrent"] = *args.max_concurrent;
  if (args.timeout) changes["upgrade_timeout_seconds"] = *args.timeout;
  json settings;
  if (changes.empty()) {
    UPDRAFT_TRY_ASSIGN(settings, server.get(target));
  } else {
    UPDRAFT_TRY_ASSIGN(settings, server.send(Method::kPut, target, changes));
  }
  std::printf("product %s, EnOS sub-devices:\n", args.name.c_str());
  std::printf("  sign method        %s\n", settings.value("sign_method", "").c_str());
  const std::string base = settings.value("download_base", "");
  std::printf("  download URLs      %s/version/<id>\n", base.c_str());
  std::printf("  deltas             %s\n", settings.value("allow_delta", false) ? "yes" : "no");
  std::printf("  self-registration  %s\n",
              settings.value("auto_register", false)
                  ? ("yes, hardware " + settings.value("hardware", std::string())).c_str()
                  : "no");
  std::printf("  at once            %u upgrades, a slot freed after %lld s without news\n",
              settings.value("max_concurrent", 0u),
              static_cast<long long>(settings.value("upgrade_timeout_seconds", 0)));
  return {};
}

}  // namespace

void add_product_command(CLI::App& app, int& exit_code) {
  CLI::App* group =
      app.add_subcommand("product", "Create, change and list products on the update server");
  group->require_subcommand(1);
  auto args = std::make_shared<ProductArgs>();

  CLI::App* create = group->add_subcommand("create",
                                           "Create a product: a kind of device that shares images "
                                           "and a delta profile. Needs an admin token.");
  create
      ->add_option("NAME", args->name, "Product name: 1..32 printable ASCII characters, no spaces")
      ->required();
  create
      ->add_option(
          "--profile", args->profile,
          "Device class, which sets the delta format devices can apply: mcu-tiny (<= 8 KB RAM), "
          "mcu (<= 32 KB), linux")
      ->required()
      ->check(CLI::IsMember({"mcu-tiny", "mcu", "linux"}));
  create
      ->add_option("--slot-size", args->slot_size, "Bytes in a device's image slot; 0: not checked")
      ->capture_default_str();
  create
      ->add_option("--while-delta-builds", args->while_delta_builds,
                   "What a device is told while its delta is being built: retry (come back in "
                   "a few seconds; the default) or full-image (take the whole image now)")
      ->check(CLI::IsMember({"retry", "full-image"}));
  create
      ->add_option("--delta-budget", args->delta_budget_seconds,
                   "Seconds a device waits for its delta to be built before it is offered the "
                   "full image (the build goes on for later devices); 0: no limit")
      ->check(CLI::Range(0, 86400 * 7));
  create->add_option(
      "--provisioning-secret", args->provisioning_secret,
      "Lets devices register themselves with this secret (>= 16 characters); 'generate' makes "
      "one and prints it once");
  create->callback([args, server = add_server_options(*create), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return create_product(s, *args); });
  });

  CLI::App* update = group->add_subcommand(
      "update",
      "Change how a product waits for its deltas (its name, profile and slot size stay). Needs "
      "an admin token.");
  update->add_option("NAME", args->name, "Product name")->required();
  update
      ->add_option("--while-delta-builds", args->while_delta_builds,
                   "retry (devices come back in a few seconds) or full-image (they take the "
                   "whole image now)")
      ->check(CLI::IsMember({"retry", "full-image"}));
  auto budget = std::make_shared<std::optional<std::uint32_t>>();
  update
      ->add_option("--delta-budget", *budget,
                   "Seconds a device waits for its delta before it is offered the full image; "
                   "0: no limit")
      ->check(CLI::Range(0, 86400 * 7));
  update->callback([args, budget, server = add_server_options(*update), &exit_code] {
    exit_code = run_with_server(
        *server, [&](ServerConnection& s) { return update_product(s, *args, *budget); });
  });

  CLI::App* enos = group->add_subcommand(
      "enos", "Show or change how EnOS sub-devices of a product update (docs/api/enos.md)");
  enos->add_option("NAME", args->name, "Product name")->required();
  enos->add_option("--sign-method", args->sign_method, "Digest in 'sign': MD5 or SHA256")
      ->check(CLI::IsMember({"MD5", "SHA256"}));
  enos->add_option("--download-base", args->download_base,
                   "Absolute prefix for downloadurl, e.g. http://10.0.0.2:5055 ('' for relative)");
  enos->add_option("--allow-delta", args->allow_delta,
                   "true: serve a delta from the reported version when one exists");
  enos->add_option("--auto-register", args->auto_register,
                   "true: unknown assetIds with a serial number register themselves");
  enos->add_option("--hardware", args->hardware, "Hardware id self-registered sub-devices get");
  enos->add_option("--max-concurrent", args->max_concurrent,
                   "Upgrades at the same time (the EnOS edge's 5)");
  enos->add_option("--upgrade-timeout", args->timeout,
                   "Seconds without news after which an upgrade frees its slot");
  enos->callback([args, server = add_server_options(*enos), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return enos_settings(s, *args); });
  });

  CLI::App* remove = group->add_subcommand(
      "delete", "Delete a product that has no devices, releases or campaigns");
  remove->add_option("NAME", args->name, "Product name")->required();
  remove->callback([args, server = add_server_options(*remove), &exit_code] {
    exit_code = run_with_server(*server, [&](ServerConnection& s) -> HostResult<void> {
      UPDRAFT_TRY(s.send(Method::kDelete, "/api/v1/products/" + url_encode(args->name), nullptr));
      std::printf("product %s deleted\n", args->name.c_str());
      return {};
    });
  });

  CLI::App* list = group->add_subcommand("list", "List the products: id, name, profile, slot size");
  list->callback([server = add_server_options(*list), &exit_code] {
    exit_code = run_with_server(*server, list_products);
  });
}

}  // namespace updraft::cli
