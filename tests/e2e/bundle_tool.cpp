// bundle_tool: fetches a bundle the way an agent will, for the e2e tests.
//   bundle_tool fetch STORAGE DIGEST DIR   (WEFT_API_URL; s3 credentials from the environment)
// Reads the storage record from the server, gets the bundle from that store (verifying its
// sha256), unpacks it into DIR and prints the bundle's path.
#include <filesystem>
#include <iostream>

#include "sdk/client/bundle.hpp"
#include "sdk/client/client.hpp"
#include "sdk/client/storage/bundle_store.hpp"

int main(int argc, char** argv) {
  using namespace weft::client;
  if (argc != 5 || std::string(argv[1]) != "fetch") {
    std::cerr << "usage: bundle_tool fetch STORAGE DIGEST DIR\n";
    return 2;
  }
  std::string name = argv[2], digest = argv[3], dir = argv[4];
  Client client(OptionsFromEnv());
  weft::v1::GetStorageRequest req;
  req.set_name(name);
  auto s = client.GetStorage(req);
  if (!s) {
    std::cerr << "error: " << s.error().message << "\n";
    return 1;
  }
  auto store = storage::OpenBundleStore(s->storage(), client);
  if (!store) {
    std::cerr << "error: " << store.error().message << "\n";
    return 1;
  }
  std::filesystem::create_directories(dir);
  std::string file = dir + ".tar.gz";
  if (auto g = (*store)->Get(digest, file); !g) {
    std::cerr << "error: " << g.error().message << "\n";
    return 1;
  }
  if (auto u = UnpackBundle(file, dir); !u) {
    std::cerr << "error: " << u.error().message << "\n";
    return 1;
  }
  std::cout << file << "\n";
  return 0;
}
