#include "program.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "libbpf_handles.h"
#include "link.h"

namespace loupe {

namespace {

struct ProgramInit {
  std::shared_ptr<ObjectState> state;
  bpf_program* program;
};

bpf_prog_info ProgramInfo(Napi::Env env, int fd, const std::string& name) {
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0)
    ThrowBpfError(env, errno, "reading info of program '" + name + "'");
  return info;
}

}  // namespace

Napi::Function NativeProgram::Define(Napi::Env env) {
  return DefineClass(env, "NativeProgram",
                     {
                         InstanceAccessor<&NativeProgram::Name>("name"),
                         InstanceAccessor<&NativeProgram::Section>("section"),
                         InstanceAccessor<&NativeProgram::Autoload>("autoload"),
                         InstanceAccessor<&NativeProgram::FdNumber>("fd"),
                         InstanceAccessor<&NativeProgram::Id>("id"),
                         InstanceMethod<&NativeProgram::Attach>("attach"),
                         InstanceMethod<&NativeProgram::AttachTracepoint>("attachTracepoint"),
                         InstanceMethod<&NativeProgram::AttachRawTracepoint>("attachRawTracepoint"),
                         InstanceMethod<&NativeProgram::AttachUprobe>("attachUprobe"),
                         InstanceMethod<&NativeProgram::AttachPerfEvent>("attachPerfEvent"),
                         InstanceMethod<&NativeProgram::AttachCgroup>("attachCgroup"),
                         InstanceMethod<&NativeProgram::Stats>("stats"),
                     });
}

Napi::Object NativeProgram::New(Napi::Env env, std::shared_ptr<ObjectState> state, bpf_program* program) {
  ProgramInit init{std::move(state), program};
  return Data(env).program.New({Napi::External<ProgramInit>::New(env, &init)});
}

NativeProgram::NativeProgram(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeProgram>(info) {
  ProgramInit* init = InternalArg<ProgramInit>(info, "BpfProgram");
  state_ = init->state;
  program_ = init->program;
  name_ = bpf_program__name(program_);
}

bpf_program* NativeProgram::OpenProgram(Napi::Env env) const {
  if (state_->closed())
    ThrowUsageError(env, "program '" + name_ + "': its BpfObject '" + state_->name() + "' is closed");
  return program_;
}

int NativeProgram::LoadedFd(Napi::Env env) const {
  bpf_program* program = OpenProgram(env);
  if (!state_->loaded)
    ThrowUsageError(env, "program '" + name_ + "': BpfObject '" + state_->name() + "' is not loaded; await loadAsync() first");
  int fd = bpf_program__fd(program);
  if (fd < 0) ThrowUsageError(env, "program '" + name_ + "' was not loaded (its autoload is off)");
  return fd;
}

Napi::Value NativeProgram::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

Napi::Value NativeProgram::Section(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), bpf_program__section_name(OpenProgram(info.Env())));
}

Napi::Value NativeProgram::Autoload(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), bpf_program__autoload(OpenProgram(info.Env())));
}

Napi::Value NativeProgram::FdNumber(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), LoadedFd(info.Env())); }

Napi::Value NativeProgram::Id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ProgramInfo(info.Env(), LoadedFd(info.Env()), name_).id);
}

Napi::Value NativeProgram::LinkOrThrow(Napi::Env env, bpf_link* link, int err, const std::string& what,
                                       const LibbpfLogCapture& log) {
  if (link == nullptr) ThrowBpfError(env, err, "attaching program '" + name_ + "' " + what, &log);
  return NativeLink::New(env, state_, BpfLinkPtr(link));
}

Napi::Value NativeProgram::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadedFd(env);
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach(program_);
  int err = errno;
  std::string section = bpf_program__section_name(program_);
  return LinkOrThrow(env, link, err, "by its section '" + section + "' (sections without a target, like cgroup_skb or perf_event, need an explicit attach*)", log);
}

Napi::Value NativeProgram::AttachTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string category = StringArg(info, 0, "category");
  std::string name = StringArg(info, 1, "name");
  LoadedFd(env);
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_tracepoint(program_, category.c_str(), name.c_str());
  int err = errno;
  return LinkOrThrow(env, link, err, "to tracepoint " + category + ":" + name, log);
}

Napi::Value NativeProgram::AttachRawTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "name");
  LoadedFd(env);
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_raw_tracepoint(program_, name.c_str());
  int err = errno;
  return LinkOrThrow(env, link, err, "to raw tracepoint " + name, log);
}

// (binaryPath, functionName | undefined, offset, pid, retprobe)
Napi::Value NativeProgram::AttachUprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string binaryPath = StringArg(info, 0, "binaryPath");
  std::string functionName = Arg(info, 1).IsUndefined() ? "" : StringArg(info, 1, "functionName");
  int64_t offset = IntegerArg(info, 2, "offset");
  int64_t pid = IntegerArg(info, 3, "pid");
  bool retprobe = BoolArg(info, 4, "retprobe");
  LoadedFd(env);

  bpf_uprobe_opts opts{};
  opts.sz = sizeof(opts);
  opts.retprobe = retprobe;
  if (!functionName.empty()) opts.func_name = functionName.c_str();
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_uprobe_opts(program_, static_cast<pid_t>(pid), binaryPath.c_str(),
                                                   static_cast<size_t>(offset), &opts);
  int err = errno;
  std::string target = binaryPath + (functionName.empty() ? "" : ":" + functionName) +
                       (offset != 0 ? "+" + std::to_string(offset) : "");
  return LinkOrThrow(env, link, err, std::string("to ") + (retprobe ? "uretprobe " : "uprobe ") + target, log);
}

// (cpu, pid, type: PERF_TYPE_*, config, period or frequency, useFrequency)
Napi::Value NativeProgram::AttachPerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t cpu = IntegerArg(info, 0, "cpu");
  int64_t pid = IntegerArg(info, 1, "pid");
  int64_t type = IntegerArg(info, 2, "type");
  int64_t config = IntegerArg(info, 3, "config");
  int64_t periodOrFrequency = IntegerArg(info, 4, "samplePeriod/frequency");
  bool useFrequency = BoolArg(info, 5, "useFrequency");
  LoadedFd(env);

  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = static_cast<uint32_t>(type);
  attr.config = static_cast<uint64_t>(config);
  attr.freq = useFrequency ? 1 : 0;
  if (useFrequency)
    attr.sample_freq = static_cast<uint64_t>(periodOrFrequency);
  else
    attr.sample_period = static_cast<uint64_t>(periodOrFrequency);

  std::string event = "perf event (type " + std::to_string(type) + ", config " + std::to_string(config) + ") on cpu " +
                      std::to_string(cpu) + (pid >= 0 ? ", pid " + std::to_string(pid) : "");
  Fd perfEvent(static_cast<int>(
      syscall(SYS_perf_event_open, &attr, static_cast<pid_t>(pid), static_cast<int>(cpu), -1, PERF_FLAG_FD_CLOEXEC)));
  if (!perfEvent.valid()) ThrowBpfError(env, errno, "opening " + event + " for program '" + name_ + "'");
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_perf_event(program_, perfEvent.get());
  int err = errno;
  if (link != nullptr) perfEvent.release();  // the link closes it when destroyed
  return LinkOrThrow(env, link, err, "to " + event, log);
}

Napi::Value NativeProgram::AttachCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "cgroupPath");
  LoadedFd(env);
  Fd cgroup(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup.valid()) ThrowBpfError(env, errno, "opening cgroup directory '" + path + "'");
  struct statfs filesystem {};
  if (fstatfs(cgroup.get(), &filesystem) != 0) ThrowBpfError(env, errno, "statfs of '" + path + "'");
  if (filesystem.f_type != CGROUP2_SUPER_MAGIC)
    ThrowUsageError(env, "attachCgroup: '" + path +
                             "' is not on a cgroup2 file system (find the cgroup2 mount in /proc/self/mountinfo)");
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_cgroup(program_, cgroup.get());
  int err = errno;
  return LinkOrThrow(env, link, err, "to cgroup '" + path + "'", log);  // the link holds the cgroup; our fd can go
}

Napi::Value NativeProgram::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_prog_info programInfo = ProgramInfo(env, LoadedFd(env), name_);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("runTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(programInfo.run_time_ns)));
  stats.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(programInfo.run_cnt)));
  return stats;
}

}  // namespace loupe
