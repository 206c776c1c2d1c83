#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "sdk/client/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/storage.grpc.pb.h"

namespace weft::server::api {

namespace {

v1::Storage ToProto(const store::StorageRecord& s) {
  v1::Storage p;
  p.set_id(s.id);
  p.set_name(s.name);
  p.set_kind(s.kind);
  auto j = nlohmann::json::parse(s.config_json.empty() ? "{}" : s.config_json, nullptr, false);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.value().is_string()) (*p.mutable_config())[it.key()] = it.value().get<std::string>();
    }
  }
  p.set_is_default(s.is_default);
  *p.mutable_created() = client::ToProto(s.created);
  for (const auto& u : s.used_by) p.add_used_by(u);
  return p;
}

class StorageServiceImpl final : public v1::StorageService::Service {
 public:
  StorageServiceImpl(orchestration::StorageCatalog& catalog, std::shared_ptr<spdlog::logger> logger)
      : catalog_(catalog), logger_(std::move(logger)) {}

  grpc::Status CreateStorage(grpc::ServerContext*, const v1::CreateStorageRequest* req,
                             v1::CreateStorageResponse* resp) override {
    orchestration::StorageSpec spec;
    spec.name = req->name();
    spec.kind = req->kind();
    spec.config.insert(req->config().begin(), req->config().end());
    spec.make_default = req->make_default();
    auto r = catalog_.Create(spec);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_storage() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status GetStorage(grpc::ServerContext*, const v1::GetStorageRequest* req,
                          v1::GetStorageResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    auto r = catalog_.Get(req->name());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_storage() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListStorages(grpc::ServerContext*, const v1::ListStoragesRequest* req,
                            v1::ListStoragesResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    auto r = catalog_.List(req->page().cursor(), *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    bool more = static_cast<int>(r->size()) > *limit;
    if (more) r->resize(*limit);
    for (const auto& s : *r) *resp->add_storages() = ToProto(s);
    if (more && !r->empty()) resp->mutable_page()->set_next_cursor(r->back().name);
    return grpc::Status::OK;
  }

  grpc::Status SetDefaultStorage(grpc::ServerContext*, const v1::SetDefaultStorageRequest* req,
                                 v1::SetDefaultStorageResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    auto r = catalog_.SetDefault(req->name());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_storage() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status DeleteStorage(grpc::ServerContext*, const v1::DeleteStorageRequest* req,
                             v1::DeleteStorageResponse*) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    auto r = catalog_.Delete(req->name());
    if (!r.ok()) return ToGrpc(r.error());
    return grpc::Status::OK;
  }

  grpc::Status UploadBundle(grpc::ServerContext*, grpc::ServerReader<v1::BundleChunk>* reader,
                            v1::UploadBundleResponse* resp) override {
    v1::BundleChunk first;
    if (!reader->Read(&first)) return Invalid("digest: the stream carried no message");
    bool pending_first = !first.data().empty();
    v1::BundleChunk chunk;
    auto next = [&](std::string* data) -> bool {
      if (pending_first) {
        pending_first = false;
        data->swap(*first.mutable_data());
        return true;
      }
      if (!reader->Read(&chunk)) return false;
      data->swap(*chunk.mutable_data());
      return true;
    };
    auto r = catalog_.UploadBundle(first.digest(), first.size(), next);
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_digest(r->digest);
    resp->set_size(r->size);
    resp->set_already_present(r->already_present);
    return grpc::Status::OK;
  }

  grpc::Status StatBundle(grpc::ServerContext*, const v1::StatBundleRequest* req,
                          v1::StatBundleResponse* resp) override {
    auto r = catalog_.StatBundle(req->digest());
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_exists(r->has_value());
    if (*r) resp->set_size((*r)->size);
    return grpc::Status::OK;
  }

  grpc::Status DownloadBundle(grpc::ServerContext* ctx, const v1::DownloadBundleRequest* req,
                              grpc::ServerWriter<v1::BundleChunk>* writer) override {
    bool first = true;
    v1::BundleChunk chunk;
    auto st = catalog_.DownloadBundle(req->digest(), [&](const std::string& data) {
      if (ctx->IsCancelled()) return false;
      chunk.Clear();
      if (first) chunk.set_digest(req->digest());
      first = false;
      chunk.set_data(data);
      return writer->Write(chunk);
    });
    if (!st.ok()) return ToGrpc(st.error());
    return grpc::Status::OK;
  }

 private:
  orchestration::StorageCatalog& catalog_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeStorageService(orchestration::StorageCatalog& catalog,
                                                  std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<StorageServiceImpl>(catalog, std::move(logger));
}

}  // namespace weft::server::api
