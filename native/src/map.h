// BpfMap: one map of a BpfObject, read and written as raw bytes. Per-CPU maps
// hold possibleCpus() values per key, each padded to 8 bytes, concatenated.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "object_state.h"

namespace loupe {

class NativeMap : public Napi::ObjectWrap<NativeMap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, std::shared_ptr<ObjectState> state, bpf_map* map);
  explicit NativeMap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Type(const Napi::CallbackInfo& info);
  Napi::Value KeySize(const Napi::CallbackInfo& info);
  Napi::Value ValueSize(const Napi::CallbackInfo& info);
  Napi::Value MaxEntries(const Napi::CallbackInfo& info);
  Napi::Value FdNumber(const Napi::CallbackInfo& info);
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value PerCpu(const Napi::CallbackInfo& info);
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  void Update(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value Keys(const Napi::CallbackInfo& info);
  Napi::Value Entries(const Napi::CallbackInfo& info);
  Napi::Value LookupAndDeleteBatch(const Napi::CallbackInfo& info);
  Napi::Value OpenRingBuffer(const Napi::CallbackInfo& info);
  Napi::Value UpdateCgroupStorage(const Napi::CallbackInfo& info);
  Napi::Value DeleteCgroupStorage(const Napi::CallbackInfo& info);

  bpf_map* OpenMap(Napi::Env env) const;
  // The map's fd once loaded; `operation` says who asked, for the error.
  int LoadedFd(Napi::Env env, const char* operation) const;
  // Bytes of one value as the syscalls see it (all CPUs for per-CPU maps).
  size_t ValueStride() const;
  void CheckKey(Napi::Env env, const Napi::Buffer<uint8_t>& key) const;
  void CheckElementAccess(Napi::Env env, const char* operation) const;
  // The map's fd, if it is a cgroup storage map.
  int CgroupStorageFd(Napi::Env env, const char* operation) const;
  std::vector<std::vector<uint8_t>> KeyList(Napi::Env env, int fd) const;
  // Copies the value of key; false if the key is not there.
  bool LookupInto(Napi::Env env, int fd, const uint8_t* key, std::vector<uint8_t>& value) const;
  Napi::Array EntriesOneByOne(Napi::Env env, int fd, bool andDelete) const;

  std::shared_ptr<ObjectState> state_;
  bpf_map* map_ = nullptr;
  std::string name_;
};

}  // namespace loupe
