// The addon's entry point: registers the wrapper classes and the functions
// that belong to no object (possibleCpus, enableStats, feature probes).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <napi.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "addon_data.h"
#include "args.h"
#include "cgroup_fd.h"
#include "errors.h"
#include "libbpf_handles.h"
#include "link.h"
#include "map.h"
#include "object.h"
#include "program.h"
#include "ring_buffer.h"

namespace loupe {

namespace {

// A kernel resource that lasts as long as its fd is open (BPF_ENABLE_STATS).
class OwnedFd : public Napi::ObjectWrap<OwnedFd> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "OwnedFd",
                       {InstanceMethod<&OwnedFd::Close>("close"), InstanceAccessor<&OwnedFd::Closed>("closed")});
  }
  explicit OwnedFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OwnedFd>(info) {
    fd_ = std::move(*InternalArg<Fd>(info, "OwnedFd"));
  }

 private:
  void Close(const Napi::CallbackInfo&) { fd_.reset(); }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !fd_.valid()); }

  Fd fd_;
};

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) ThrowBpfError(info.Env(), -cpus, "reading the possible CPUs (/sys/devices/system/cpu/possible)");
  return Napi::Number::New(info.Env(), cpus);
}

Napi::Value EnableStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  if (!stats.valid()) ThrowBpfError(env, errno, "enabling BPF run-time statistics (BPF_ENABLE_STATS)");
  return Data(env).ownedFd.New({Napi::External<Fd>::New(env, &stats)});
}

// (typeName as libbpf names it, e.g. 'cgrp_storage') -> whether this kernel
// can create such a map.
Napi::Value MapTypeSupported(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "typeName");
  for (int type = 0; libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type)) != nullptr; ++type) {
    if (name != libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type))) continue;
    int supported = libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(type), nullptr);
    if (supported < 0) ThrowBpfError(env, -supported, "probing the kernel for map type '" + name + "'");
    return Napi::Boolean::New(env, supported == 1);
  }
  ThrowUsageError(env, "mapTypeSupported: this libbpf knows no map type '" + name + "'");
}

// (name) -> whether the running kernel has the tracepoint `name` for tp_btf
// and raw_tp programs: its BTF names one btf_trace_<name> per tracepoint.
Napi::Value KernelHasRawTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "name");
  BtfPtr vmlinux(btf__load_vmlinux_btf());
  if (!vmlinux) ThrowBpfError(env, errno, "loading the kernel's BTF (/sys/kernel/btf/vmlinux)");
  std::string type = "btf_trace_" + name;
  return Napi::Boolean::New(env, btf__find_by_name_kind(vmlinux.get(), type.c_str(), BTF_KIND_TYPEDEF) >= 0);
}

// (mountPoint) -> whether this process may open cgroups by id there, tried on
// the cgroup mounted at mountPoint: false without CAP_DAC_READ_SEARCH.
Napi::Value CanOpenCgroupById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mountPoint = StringArg(info, 0, "mountPoint");
  struct stat root {};
  if (stat(mountPoint.c_str(), &root) != 0) ThrowBpfError(env, errno, "stat of " + mountPoint);
  if (OpenCgroupById(mountPoint, root.st_ino).valid()) return Napi::Boolean::New(env, true);
  if (errno == EPERM || errno == EACCES) return Napi::Boolean::New(env, false);
  ThrowBpfError(env, errno, "opening the cgroup at " + mountPoint + " by its id");
}

// (mountPoint) -> mounts tracefs there. Tracepoints outside tp_btf/raw_tp
// find their ids in tracefs, which nothing mounts on a fresh node.
void MountTracefs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mountPoint = StringArg(info, 0, "mountPoint");
  if (mount("nodev", mountPoint.c_str(), "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    ThrowBpfError(env, errno, "mounting tracefs at " + mountPoint);
}

// native/index.ts hands over its BpfError class, so that errors from C++ are
// instances of it.
void SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Value errorClass = Arg(info, 0);
  if (!errorClass.IsFunction()) ThrowTypeError(info.Env(), "setErrorClass: expected the BpfError class");
  Data(info.Env()).bpfError = Napi::Persistent(errorClass.As<Napi::Function>());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LibbpfLogCapture::Install();
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);

  Napi::Function object = NativeObject::Define(env);
  Napi::Function program = NativeProgram::Define(env);
  Napi::Function map = NativeMap::Define(env);
  Napi::Function link = NativeLink::Define(env);
  Napi::Function ringBuffer = NativeRingBuffer::Define(env);
  Napi::Function ownedFd = OwnedFd::Define(env);
  data->object = Napi::Persistent(object);
  data->program = Napi::Persistent(program);
  data->map = Napi::Persistent(map);
  data->link = Napi::Persistent(link);
  data->ringBuffer = Napi::Persistent(ringBuffer);
  data->ownedFd = Napi::Persistent(ownedFd);

  exports.Set("NativeObject", object);
  exports.Set("possibleCpus", Napi::Function::New<PossibleCpus>(env, "possibleCpus"));
  exports.Set("enableStats", Napi::Function::New<EnableStats>(env, "enableStats"));
  exports.Set("mapTypeSupported", Napi::Function::New<MapTypeSupported>(env, "mapTypeSupported"));
  exports.Set("kernelHasRawTracepoint", Napi::Function::New<KernelHasRawTracepoint>(env, "kernelHasRawTracepoint"));
  exports.Set("canOpenCgroupById", Napi::Function::New<CanOpenCgroupById>(env, "canOpenCgroupById"));
  exports.Set("mountTracefs", Napi::Function::New<MountTracefs>(env, "mountTracefs"));
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  return exports;
}

}  // namespace

}  // namespace loupe

static Napi::Object InitLoupeNative(Napi::Env env, Napi::Object exports) { return loupe::Init(env, exports); }

NODE_API_MODULE(loupe_native, InitLoupeNative)
