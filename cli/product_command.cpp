// `updraft product create NAME --profile P` and `updraft product list`: the
// products the update server knows (creating one needs an admin token).
#include <cstdio>
#include <memory>
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
};

HostResult<void> create_product(ServerConnection& server, const ProductArgs& args) {
  json body = {{"name", args.name}, {"profile", args.profile}};
  if (args.slot_size != 0) body["slot_size"] = args.slot_size;
  if (!args.provisioning_secret.empty()) body["provisioning_secret"] = args.provisioning_secret;
  UPDRAFT_TRY_ASSIGN(const json product, server.send(Method::kPost, "/api/v1/products", body));
  std::printf("product %s (id %lld): profile %s, slot size %u bytes\n",
              product.at("name").get<std::string>().c_str(), product.at("id").get<long long>(),
              product.at("profile").get<std::string>().c_str(), product.value("slot_size", 0u));
  if (product.contains("provisioning_secret")) {
    std::printf(
        "provisioning secret: %s\n  (shown once: devices that know it may register themselves)\n",
        product["provisioning_secret"].get<std::string>().c_str());
  }
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

}  // namespace

void add_product_command(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand("product", "Create and list products on the update server");
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
  create->add_option(
      "--provisioning-secret", args->provisioning_secret,
      "Lets devices register themselves with this secret (>= 16 characters); 'generate' makes "
      "one and prints it once");
  create->callback([args, server = add_server_options(*create), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return create_product(s, *args); });
  });

  CLI::App* list = group->add_subcommand("list", "List the products: id, name, profile, slot size");
  list->callback([server = add_server_options(*list), &exit_code] {
    exit_code = run_with_server(*server, list_products);
  });
}

}  // namespace updraft::cli
