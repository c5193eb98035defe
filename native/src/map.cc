#include "map.h"

#include <bpf/bpf.h>
#include <errno.h>

#include <algorithm>
#include <cstring>

#include "addon_data.h"
#include "args.h"
#include "cgroup_fd.h"
#include "errors.h"
#include "libbpf_handles.h"
#include "ring_buffer.h"

namespace loupe {

namespace {

struct MapInit {
  std::shared_ptr<ObjectState> state;
  bpf_map* map;
};

bool IsPerCpu(bpf_map_type type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool IsArray(bpf_map_type type) {
  return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

// Maps whose elements cannot be read by key at all.
bool HasNoElements(bpf_map_type type) {
  return type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF ||
         type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

std::string TypeName(bpf_map_type type) {
  const char* name = libbpf_bpf_map_type_str(type);
  return name != nullptr ? name : "unknown(" + std::to_string(static_cast<int>(type)) + ")";
}

Napi::Buffer<uint8_t> Copy(Napi::Env env, const uint8_t* data, size_t size) {
  return Napi::Buffer<uint8_t>::Copy(env, data, size);
}

Napi::Array Pair(Napi::Env env, Napi::Value key, Napi::Value value) {
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, key);
  pair.Set(1u, value);
  return pair;
}

// BPF_MAP_TYPE_CGRP_STORAGE (kernel 6.2, libbpf 1.1) is newer than the
// distribution's linux/bpf.h.
constexpr auto kMapTypeCgrpStorage = static_cast<bpf_map_type>(32);


}  // namespace

Napi::Function NativeMap::Define(Napi::Env env) {
  return DefineClass(env, "NativeMap",
                     {
                         InstanceAccessor<&NativeMap::Name>("name"),
                         InstanceAccessor<&NativeMap::Type>("type"),
                         InstanceAccessor<&NativeMap::KeySize>("keySize"),
                         InstanceAccessor<&NativeMap::ValueSize>("valueSize"),
                         InstanceAccessor<&NativeMap::MaxEntries>("maxEntries"),
                         InstanceAccessor<&NativeMap::FdNumber>("fd"),
                         InstanceAccessor<&NativeMap::Id>("id"),
                         InstanceAccessor<&NativeMap::PerCpu>("perCpu"),
                         InstanceMethod<&NativeMap::Lookup>("lookup"),
                         InstanceMethod<&NativeMap::Update>("update"),
                         InstanceMethod<&NativeMap::Delete>("delete"),
                         InstanceMethod<&NativeMap::Keys>("keys"),
                         InstanceMethod<&NativeMap::Entries>("entries"),
                         InstanceMethod<&NativeMap::LookupAndDeleteBatch>("lookupAndDeleteBatch"),
                         InstanceMethod<&NativeMap::OpenRingBuffer>("openRingBuffer"),
                         InstanceMethod<&NativeMap::UpdateCgroupStorage>("updateCgroupStorage"),
                         InstanceMethod<&NativeMap::DeleteCgroupStorage>("deleteCgroupStorage"),
                     });
}

Napi::Object NativeMap::New(Napi::Env env, std::shared_ptr<ObjectState> state, bpf_map* map) {
  MapInit init{std::move(state), map};
  return Data(env).map.New({Napi::External<MapInit>::New(env, &init)});
}

NativeMap::NativeMap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMap>(info) {
  MapInit* init = InternalArg<MapInit>(info, "BpfMap");
  state_ = init->state;
  map_ = init->map;
  name_ = bpf_map__name(map_);
}

bpf_map* NativeMap::OpenMap(Napi::Env env) const {
  if (state_->closed()) ThrowUsageError(env, "map '" + name_ + "': its BpfObject '" + state_->name() + "' is closed");
  return map_;
}

int NativeMap::LoadedFd(Napi::Env env, const char* operation) const {
  bpf_map* map = OpenMap(env);
  if (!state_->loaded)
    ThrowUsageError(env, "map '" + name_ + "'." + operation + ": BpfObject '" + state_->name() +
                             "' is not loaded; await loadAsync() first");
  return bpf_map__fd(map);
}

size_t NativeMap::ValueStride() const {
  size_t size = bpf_map__value_size(map_);
  if (!IsPerCpu(bpf_map__type(map_))) return size;
  return ((size + 7) & ~static_cast<size_t>(7)) * static_cast<size_t>(libbpf_num_possible_cpus());
}

void NativeMap::CheckKey(Napi::Env env, const Napi::Buffer<uint8_t>& key) const {
  if (key.Length() != bpf_map__key_size(map_))
    ThrowUsageError(env, "map '" + name_ + "': key is " + std::to_string(key.Length()) + " bytes, the map's keys are " +
                             std::to_string(bpf_map__key_size(map_)));
}

void NativeMap::CheckElementAccess(Napi::Env env, const char* operation) const {
  bpf_map_type type = bpf_map__type(map_);
  if (HasNoElements(type))
    ThrowUsageError(env, "map '" + name_ + "' is a " + TypeName(type) + ": it has no elements to " + operation +
                             (type == BPF_MAP_TYPE_RINGBUF ? "; read it with RingBuffer" : ""));
}

Napi::Value NativeMap::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
Napi::Value NativeMap::Type(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TypeName(bpf_map__type(OpenMap(info.Env()))));
}
Napi::Value NativeMap::KeySize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), bpf_map__key_size(OpenMap(info.Env())));
}
Napi::Value NativeMap::ValueSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), bpf_map__value_size(OpenMap(info.Env())));
}
Napi::Value NativeMap::MaxEntries(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), bpf_map__max_entries(OpenMap(info.Env())));
}
Napi::Value NativeMap::PerCpu(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsPerCpu(bpf_map__type(OpenMap(info.Env()))));
}
Napi::Value NativeMap::FdNumber(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), LoadedFd(info.Env(), "fd")); }

Napi::Value NativeMap::Id(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map_info mapInfo{};
  uint32_t length = sizeof(mapInfo);
  if (bpf_obj_get_info_by_fd(LoadedFd(env, "id"), &mapInfo, &length) != 0)
    ThrowBpfError(env, errno, "reading info of map '" + name_ + "'");
  return Napi::Number::New(env, mapInfo.id);
}

bool NativeMap::LookupInto(Napi::Env env, int fd, const uint8_t* key, std::vector<uint8_t>& value) const {
  value.resize(ValueStride());
  if (bpf_map_lookup_elem(fd, key, value.data()) == 0) return true;
  if (errno == ENOENT) return false;
  ThrowBpfError(env, errno, "lookup in map '" + name_ + "'");
}

Napi::Value NativeMap::Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = BufferArg(info, 0, "key");
  int fd = LoadedFd(env, "lookup");
  CheckElementAccess(env, "look up");
  CheckKey(env, key);
  std::vector<uint8_t> value;
  if (!LookupInto(env, fd, key.Data(), value)) return env.Undefined();
  return Copy(env, value.data(), value.size());
}

// (key, value, flags: BPF_ANY | BPF_NOEXIST | BPF_EXIST)
void NativeMap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = BufferArg(info, 0, "key");
  Napi::Buffer<uint8_t> value = BufferArg(info, 1, "value");
  int64_t flags = IntegerArg(info, 2, "flags");
  int fd = LoadedFd(env, "update");
  CheckElementAccess(env, "update");
  CheckKey(env, key);
  if (value.Length() != ValueStride())
    ThrowUsageError(env, "map '" + name_ + "': value is " + std::to_string(value.Length()) + " bytes, the map needs " +
                             std::to_string(ValueStride()) +
                             (IsPerCpu(bpf_map__type(map_)) ? " (one value per possible CPU, each padded to 8 bytes)" : ""));
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), static_cast<uint64_t>(flags)) != 0)
    ThrowBpfError(env, errno, "update of map '" + name_ + "'");
}

Napi::Value NativeMap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = BufferArg(info, 0, "key");
  int fd = LoadedFd(env, "delete");
  CheckElementAccess(env, "delete");
  CheckKey(env, key);
  if (IsArray(bpf_map__type(map_)))
    ThrowUsageError(env, "map '" + name_ + "' is an array: its elements cannot be deleted; overwrite them with update()");
  if (bpf_map_delete_elem(fd, key.Data()) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  ThrowBpfError(env, errno, "delete from map '" + name_ + "'");
}

// At most max_entries keys: a hash map restarts iteration when the previous
// key is deleted under us, and must not make this loop forever.
std::vector<std::vector<uint8_t>> NativeMap::KeyList(Napi::Env env, int fd) const {
  size_t keySize = bpf_map__key_size(map_);
  size_t limit = bpf_map__max_entries(map_);
  std::vector<std::vector<uint8_t>> keys;
  std::vector<uint8_t> next(keySize);
  const void* previous = nullptr;
  while (keys.size() < limit) {
    if (bpf_map_get_next_key(fd, previous, next.data()) != 0) {
      if (errno == ENOENT) break;
      ThrowBpfError(env, errno, "iterating keys of map '" + name_ + "'");
    }
    keys.push_back(next);
    previous = keys.back().data();
  }
  return keys;
}

Napi::Value NativeMap::Keys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = LoadedFd(env, "keys");
  CheckElementAccess(env, "list");
  Napi::Array result = Napi::Array::New(env);
  for (const auto& key : KeyList(env, fd)) result.Set(result.Length(), Copy(env, key.data(), key.size()));
  return result;
}

Napi::Array NativeMap::EntriesOneByOne(Napi::Env env, int fd, bool andDelete) const {
  Napi::Array result = Napi::Array::New(env);
  std::vector<uint8_t> value;
  for (const auto& key : KeyList(env, fd)) {
    if (!LookupInto(env, fd, key.data(), value)) continue;  // deleted since listed
    if (andDelete && bpf_map_delete_elem(fd, key.data()) != 0) {
      if (errno == ENOENT) continue;  // someone else took it
      ThrowBpfError(env, errno, "delete from map '" + name_ + "'");
    }
    result.Set(result.Length(), Pair(env, Copy(env, key.data(), key.size()), Copy(env, value.data(), value.size())));
  }
  return result;
}

Napi::Value NativeMap::Entries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = LoadedFd(env, "entries");
  CheckElementAccess(env, "list");
  return EntriesOneByOne(env, fd, false);
}

// Drains the map: whole batches where the kernel supports them, one key at a
// time where it does not (ENOTSUPP/EINVAL on the first batch).
Napi::Value NativeMap::LookupAndDeleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = LoadedFd(env, "lookupAndDeleteBatch");
  CheckElementAccess(env, "drain");
  if (IsArray(bpf_map__type(map_)))
    ThrowUsageError(env, "map '" + name_ + "' is an array: its elements cannot be deleted; read it with entries()");

  size_t keySize = bpf_map__key_size(map_);
  size_t stride = ValueStride();
  uint32_t batchSize = std::clamp<uint32_t>(bpf_map__max_entries(map_), 1, 4096);
  // The kernel's batch cursor: a bucket index for hash maps; key-sized is enough.
  std::vector<uint8_t> inBatch(std::max<size_t>(keySize, 8)), outBatch(inBatch.size());
  bool first = true;
  Napi::Array result = Napi::Array::New(env);
  for (;;) {
    std::vector<uint8_t> keys(keySize * batchSize), values(stride * batchSize);
    uint32_t count = batchSize;
    bpf_map_batch_opts opts{};
    opts.sz = sizeof(opts);
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(), keys.data(),
                                              values.data(), &count, &opts);
    int code = err != 0 ? errno : 0;
    if (code == ENOSPC && count == 0 && batchSize < (1u << 20)) {  // one hash bucket holds more than a batch
      batchSize *= 2;
      continue;
    }
    if (code != 0 && code != ENOENT) {
      if (first && (code == 524 /* ENOTSUPP */ || code == EOPNOTSUPP || code == EINVAL))
        return EntriesOneByOne(env, fd, true);
      ThrowBpfError(env, code, "lookup-and-delete batch on map '" + name_ + "'");
    }
    for (uint32_t i = 0; i < count; ++i)
      result.Set(result.Length(), Pair(env, Copy(env, keys.data() + i * keySize, keySize),
                                       Copy(env, values.data() + i * stride, stride)));
    if (code == ENOENT) return result;
    std::swap(inBatch, outBatch);
    first = false;
  }
}

Napi::Value NativeMap::OpenRingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value callback = Arg(info, 0);
  Napi::Value owner = Arg(info, 1);
  if (!callback.IsFunction()) ThrowTypeError(env, "RingBuffer: onRecord must be a function");
  if (!owner.IsObject()) ThrowTypeError(env, "RingBuffer: owner must be the object to keep alive while open");
  int fd = LoadedFd(env, "RingBuffer");
  bpf_map_type type = bpf_map__type(map_);
  if (type != BPF_MAP_TYPE_RINGBUF)
    ThrowUsageError(env, "RingBuffer: map '" + name_ + "' is a " + TypeName(type) + ", not a ringbuf");
  return NativeRingBuffer::New(env, state_, fd, name_, callback.As<Napi::Function>(), owner.As<Napi::Object>());
}

int NativeMap::CgroupStorageFd(Napi::Env env, const char* operation) const {
  int fd = LoadedFd(env, operation);
  bpf_map_type type = bpf_map__type(map_);
  if (type != kMapTypeCgrpStorage)
    ThrowUsageError(env, "map '" + name_ + "'." + operation + ": the map is a " + TypeName(type) + ", not a cgrp_storage");
  return fd;
}

// (mountPoint, cgroupId, value, flags) -> false when there is no such cgroup.
// Cgroup storage is keyed by an fd of the cgroup, which lives for this call.
Napi::Value NativeMap::UpdateCgroupStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mountPoint = StringArg(info, 0, "mountPoint");
  uint64_t cgroupId = BigUint64Arg(info, 1, "cgroupId");
  Napi::Buffer<uint8_t> value = BufferArg(info, 2, "value");
  int64_t flags = IntegerArg(info, 3, "flags");
  int fd = CgroupStorageFd(env, "updateCgroupStorage");
  if (value.Length() != ValueStride())
    ThrowUsageError(env, "map '" + name_ + "': value is " + std::to_string(value.Length()) + " bytes, the map needs " +
                             std::to_string(ValueStride()));
  Fd cgroup = OpenCgroupById(mountPoint, cgroupId);
  if (!cgroup.valid()) {
    if (IsMissingCgroup(errno)) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, errno, "opening cgroup " + std::to_string(cgroupId) + " under " + mountPoint);
  }
  int key = cgroup.get();
  if (bpf_map_update_elem(fd, &key, value.Data(), static_cast<uint64_t>(flags)) != 0)
    ThrowBpfError(env, errno, "update of map '" + name_ + "' for cgroup " + std::to_string(cgroupId));
  return Napi::Boolean::New(env, true);
}

// (mountPoint, cgroupId) -> false when the cgroup, or its storage, is not there.
Napi::Value NativeMap::DeleteCgroupStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mountPoint = StringArg(info, 0, "mountPoint");
  uint64_t cgroupId = BigUint64Arg(info, 1, "cgroupId");
  int fd = CgroupStorageFd(env, "deleteCgroupStorage");
  Fd cgroup = OpenCgroupById(mountPoint, cgroupId);
  if (!cgroup.valid()) {
    if (IsMissingCgroup(errno)) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, errno, "opening cgroup " + std::to_string(cgroupId) + " under " + mountPoint);
  }
  int key = cgroup.get();
  if (bpf_map_delete_elem(fd, &key) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  ThrowBpfError(env, errno, "delete from map '" + name_ + "' for cgroup " + std::to_string(cgroupId));
}

}  // namespace loupe
