// bundle_tool: bundle operations for the e2e tests.
//   bundle_tool fetch STORAGE DIGEST DIR
//       fetches a bundle the way an agent does: reads the storage record from the server,
//       gets the bundle from that store (verifying its sha256), unpacks it into DIR and
//       prints the bundle's path.
//   bundle_tool evil OUT.tar.gz (dotdot|absolute)
//       writes a gzip'd tar whose one entry is "../x" or "/tmp/weft-evil-x": a hostile bundle.
//   bundle_tool deploy STORAGE FILE FLOW NAME QUEUE
//       stores FILE as is under its sha256 in STORAGE and creates deployment FLOW/NAME on
//       QUEUE with entrypoint ["./run.sh"] pointing at it (no packing: any bytes).
// WEFT_API_URL names the server; s3 credentials come from the environment.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <iostream>

#include "sdk/client/bundle.hpp"
#include "sdk/client/client.hpp"
#include "sdk/client/storage/bundle_store.hpp"

namespace {

using namespace weft::client;

int Fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

std::unique_ptr<storage::BundleStore> OpenStore(Client& client, const std::string& name,
                                                std::string& error) {
  weft::v1::GetStorageRequest req;
  req.set_name(name);
  auto s = client.GetStorage(req);
  if (!s) {
    error = s.error().message;
    return nullptr;
  }
  auto store = storage::OpenBundleStore(s->storage(), client);
  if (!store) {
    error = store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

int Fetch(const std::string& name, const std::string& digest, const std::string& dir) {
  Client client(OptionsFromEnv());
  std::string error;
  auto store = OpenStore(client, name, error);
  if (!store) return Fail(error);
  std::filesystem::create_directories(dir);
  std::string file = dir + ".tar.gz";
  if (auto g = store->Get(digest, file); !g) return Fail(g.error().message);
  if (auto u = UnpackBundle(file, dir); !u) return Fail(u.error().message);
  std::cout << file << "\n";
  return 0;
}

int Evil(const std::string& out, const std::string& kind) {
  std::string path = kind == "absolute" ? "/tmp/weft-evil-x" : "../x";
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) {
    return Fail(std::string("cannot write ") + out + ": " + archive_error_string(a));
  }
  const std::string data = "#!/bin/sh\necho pwned\n";
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0755);
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return 0;
}

int Deploy(const std::string& name, const std::string& file, const std::string& flow,
           const std::string& deployment, const std::string& queue) {
  Client client(OptionsFromEnv());
  std::string error;
  auto store = OpenStore(client, name, error);
  if (!store) return Fail(error);
  auto sha = Sha256File(file);
  if (!sha) return Fail(sha.error().message);
  std::string digest = *sha;
  if (auto p = store->Put(digest, file); !p) return Fail(p.error().message);
  weft::v1::CreateDeploymentRequest req;
  auto* spec = req.mutable_spec();
  spec->set_name(deployment);
  spec->set_flow_name(flow);
  spec->add_entrypoint("./run.sh");
  spec->mutable_bundle()->set_storage(name);
  spec->mutable_bundle()->set_digest(digest);
  spec->mutable_bundle()->set_size(static_cast<std::int64_t>(std::filesystem::file_size(file)));
  spec->set_work_queue(queue);
  spec->mutable_runner()->set_type("process");
  spec->set_parameters_json("{}");
  auto created = client.CreateDeployment(req);
  if (!created) return Fail(created.error().message);
  std::cout << digest << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "fetch") return Fetch(a[1], a[2], a[3]);
  if (a.size() == 3 && a[0] == "evil") return Evil(a[1], a[2]);
  if (a.size() == 6 && a[0] == "deploy") return Deploy(a[1], a[2], a[3], a[4], a[5]);
  std::cerr << "usage: bundle_tool fetch STORAGE DIGEST DIR | evil OUT (dotdot|absolute) |\n"
               "       deploy STORAGE FILE FLOW NAME QUEUE\n";
  return 2;
}
