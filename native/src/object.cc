#include "object.h"

#include <bpf/btf.h>
#include <errno.h>

#include <cstring>
#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "map.h"
#include "program.h"

namespace loupe {

namespace {

// libbpf names the .rodata map "<object>.rodata" (the object name cut short).
bool IsRodataMap(const bpf_map* map) {
  if (!bpf_map__is_internal(map)) return false;
  std::string name = bpf_map__name(map);
  const std::string suffix = ".rodata";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct RodataVariable {
  std::string name;
  uint32_t offset;
  uint32_t size;
  const btf_type* type;  // with typedefs and const/volatile resolved
};

std::vector<RodataVariable> RodataVariables(bpf_object* object) {
  std::vector<RodataVariable> variables;
  const btf* types = bpf_object__btf(object);
  if (types == nullptr) return variables;
  int sectionId = btf__find_by_name_kind(types, ".rodata", BTF_KIND_DATASEC);
  if (sectionId < 0) return variables;
  const btf_type* section = btf__type_by_id(types, sectionId);
  const btf_var_secinfo* info = btf_var_secinfos(section);
  for (int i = 0; i < btf_vlen(section); ++i, ++info) {
    const btf_type* variable = btf__type_by_id(types, info->type);
    if (variable == nullptr || !btf_is_var(variable)) continue;
    int typeId = btf__resolve_type(types, variable->type);
    variables.push_back({btf__name_by_offset(types, variable->name_off), info->offset, info->size,
                         typeId < 0 ? nullptr : btf__type_by_id(types, typeId)});
  }
  return variables;
}

// Big enough for the verifier's log of a rejected program at level 1 (it logs
// the failing path only); the kernel keeps the end of a longer log, where the
// reason is. libbpf uses at most 16 MiB for its own buffers.
constexpr size_t kProgramLogBytes = 4 << 20;

// bpf_object__load on a libuv worker thread: the verifier can take seconds
// over a large object, and the event loop (status writes, health checks)
// must not wait. Each program loads with its own log buffer, so a rejection
// names its program and carries that program's verifier log, not text
// scraped from libbpf's print callback.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::shared_ptr<ObjectState> state)
      : Napi::AsyncWorker(env, "loupe:bpf_object__load"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)) {
    // libbpf asks for a log only when a program fails (log level 0, then a
    // retry at level 1 into this buffer), so loads that succeed log nothing.
    bpf_program* program;
    bpf_object__for_each_program(program, state_->object()) {
      if (!bpf_program__autoload(program)) continue;
      char* log = state_->AddProgramLog(kProgramLogBytes);
      if (bpf_program__set_log_buf(program, log, kProgramLogBytes) == 0) logs_.push_back({program, log});
    }
    state_->StartLoading();
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    LibbpfLogCapture log;
    int err = bpf_object__load(state_->object());
    failure_.err = err < 0 ? -err : 0;
    failure_.libbpfLog = log.text();
    if (failure_.err == 0) return;
    // libbpf stops at the first program that fails; only a failed program logs.
    for (const ProgramLog& program : logs_) {
      if (program.log[0] == '\0') continue;
      failure_.program = bpf_program__name(program.program);
      failure_.verifierLog = std::string(program.log, strnlen(program.log, kProgramLogBytes));
      break;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    bool succeeded = failure_.err == 0;
    std::string name = state_->name();
    state_->FinishLoading(succeeded);
    if (state_->closed()) {
      deferred_.Reject(Napi::Error::New(env, "BpfObject '" + name + "' was closed while it loaded").Value());
    } else if (succeeded) {
      deferred_.Resolve(env.Undefined());
    } else {
      failure_.what = "loading BPF object '" + name + "'";
      deferred_.Reject(BpfErrorValue(env, failure_));
    }
  }

 private:
  struct ProgramLog {
    bpf_program* program;
    const char* log;
  };

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ObjectState> state_;
  std::vector<ProgramLog> logs_;
  BpfFailure failure_;
};

}  // namespace

Napi::Function NativeObject::Define(Napi::Env env) {
  return DefineClass(env, "NativeObject",
                     {
                         StaticMethod<&NativeObject::Open>("open"),
                         InstanceAccessor<&NativeObject::Name>("name"),
                         InstanceAccessor<&NativeObject::Loaded>("loaded"),
                         InstanceAccessor<&NativeObject::Closed>("closed"),
                         InstanceMethod<&NativeObject::RodataLayout>("rodataLayout"),
                         InstanceMethod<&NativeObject::WriteRodata>("writeRodata"),
                         InstanceMethod<&NativeObject::SetMaxEntries>("setMaxEntries"),
                         InstanceMethod<&NativeObject::SetAutoload>("setAutoload"),
                         InstanceMethod<&NativeObject::SetAutocreate>("setAutocreate"),
                         InstanceMethod<&NativeObject::LoadAsync>("loadAsync"),
                         InstanceMethod<&NativeObject::ProgramNames>("programNames"),
                         InstanceMethod<&NativeObject::Program>("program"),
                         InstanceMethod<&NativeObject::MapNames>("mapNames"),
                         InstanceMethod<&NativeObject::Map>("map"),
                         InstanceMethod<&NativeObject::Close>("close"),
                     });
}

// Made only by open(), which passes the opened object in an External.
NativeObject::NativeObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeObject>(info) {
  state_ = *InternalArg<std::shared_ptr<ObjectState>>(info, "NativeObject");
}

// The garbage collector frees what close() was not called for.
NativeObject::~NativeObject() { state_->Close(); }

Napi::Value NativeObject::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value source = Arg(info, 0);
  Napi::Value nameArg = Arg(info, 1);
  std::string name;
  if (!nameArg.IsUndefined()) name = StringArg(info, 1, "name");

  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  if (!name.empty()) opts.object_name = name.c_str();

  LibbpfLogCapture log;
  bpf_object* raw = nullptr;
  std::string what;
  if (source.IsString()) {
    std::string path = source.As<Napi::String>().Utf8Value();
    what = "opening BPF object file '" + path + "'";
    raw = bpf_object__open_file(path.c_str(), &opts);
  } else if (source.IsBuffer()) {
    auto bytes = source.As<Napi::Buffer<uint8_t>>();
    if (name.empty()) name = "object";
    opts.object_name = name.c_str();
    what = "opening BPF object '" + name + "' from a buffer";
    raw = bpf_object__open_mem(bytes.Data(), bytes.Length(), &opts);
  } else {
    ThrowTypeError(env, "BpfObject.open: source must be an ELF file path (string) or its bytes (Buffer)");
  }
  if (raw == nullptr) ThrowBpfError(env, errno, what, &log);

  auto state = std::make_shared<ObjectState>(BpfObjectPtr(raw), bpf_object__name(raw));
  return Data(env).object.New({Napi::External<std::shared_ptr<ObjectState>>::New(env, &state)});
}

Napi::Value NativeObject::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), state_->name()); }
Napi::Value NativeObject::Loaded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->loaded);
}
Napi::Value NativeObject::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->closed());
}

bpf_object* NativeObject::OpenObject(Napi::Env env) const {
  if (state_->closed()) ThrowUsageError(env, "BpfObject '" + state_->name() + "' is closed");
  if (state_->loading())
    ThrowUsageError(env, "BpfObject '" + state_->name() + "' is loading; await loadAsync() first");
  return state_->object();
}

bpf_object* NativeObject::UnloadedObject(Napi::Env env, const char* operation) const {
  bpf_object* object = OpenObject(env);
  if (state_->loaded || state_->loadFailed)
    ThrowUsageError(env, std::string(operation) + " must be called before loadAsync() (BpfObject '" + state_->name() +
                             "' is already loaded)");
  return object;
}

bpf_map* NativeObject::FindMap(Napi::Env env, const std::string& name) const {
  bpf_object* object = OpenObject(env);
  std::vector<std::string> names;
  bpf_map* map;
  bpf_object__for_each_map(map, object) {
    if (name == bpf_map__name(map)) return map;
    names.push_back(bpf_map__name(map));
  }
  ThrowUsageError(env, "BpfObject '" + state_->name() + "' has no map '" + name + "'; its maps: " + JoinNames(names));
}

bpf_program* NativeObject::FindProgram(Napi::Env env, const std::string& name) const {
  bpf_object* object = OpenObject(env);
  std::vector<std::string> names;
  bpf_program* program;
  bpf_object__for_each_program(program, object) {
    if (name == bpf_program__name(program)) return program;
    names.push_back(bpf_program__name(program));
  }
  ThrowUsageError(env, "BpfObject '" + state_->name() + "' has no program '" + name + "'; its programs: " +
                           JoinNames(names));
}

// { offset, size, kind: 'int' | 'bool' | 'bytes', signed } of a const volatile
// global, so that the TypeScript side can encode numbers at the right width.
Napi::Value NativeObject::RodataLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string variable = StringArg(info, 0, "variable");
  bpf_object* object = UnloadedObject(env, "setRodata");
  std::vector<std::string> names;
  for (const RodataVariable& candidate : RodataVariables(object)) {
    if (candidate.name != variable) {
      names.push_back(candidate.name);
      continue;
    }
    Napi::Object layout = Napi::Object::New(env);
    const char* kind = "bytes";
    bool isSigned = false;
    if (candidate.type != nullptr && btf_is_int(candidate.type)) {
      uint8_t encoding = btf_int_encoding(candidate.type);
      kind = (encoding & BTF_INT_BOOL) ? "bool" : "int";
      isSigned = (encoding & BTF_INT_SIGNED) != 0;
    } else if (candidate.type != nullptr && btf_is_any_enum(candidate.type)) {
      kind = "int";
      isSigned = btf_kflag(candidate.type);
    }
    layout.Set("size", Napi::Number::New(env, candidate.size));
    layout.Set("kind", Napi::String::New(env, kind));
    layout.Set("signed", Napi::Boolean::New(env, isSigned));
    return layout;
  }
  ThrowUsageError(env, "BpfObject '" + state_->name() + "' has no const volatile variable '" + variable +
                           "' in .rodata; its variables: " + JoinNames(names));
}

void NativeObject::WriteRodata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string variable = StringArg(info, 0, "variable");
  Napi::Buffer<uint8_t> value = BufferArg(info, 1, "value");
  bpf_object* object = UnloadedObject(env, "setRodata");

  const RodataVariable* target = nullptr;
  std::vector<RodataVariable> variables = RodataVariables(object);
  for (const RodataVariable& candidate : variables)
    if (candidate.name == variable) target = &candidate;
  if (target == nullptr) ThrowUsageError(env, "BpfObject '" + state_->name() + "' has no .rodata variable '" + variable + "'");
  if (value.Length() != target->size)
    ThrowUsageError(env, "setRodata('" + variable + "'): the variable is " + std::to_string(target->size) +
                             " bytes, the value " + std::to_string(value.Length()));

  bpf_map* rodata = nullptr;
  bpf_map* map;
  bpf_object__for_each_map(map, object) if (IsRodataMap(map)) rodata = map;
  if (rodata == nullptr) ThrowUsageError(env, "BpfObject '" + state_->name() + "' has no .rodata map");

  size_t size = 0;
  const void* current = bpf_map__initial_value(rodata, &size);
  if (current == nullptr || static_cast<size_t>(target->offset) + target->size > size)
    ThrowUsageError(env, "setRodata('" + variable + "'): .rodata of BpfObject '" + state_->name() +
                             "' does not hold the variable (BTF and section disagree)");
  std::vector<uint8_t> image(static_cast<const uint8_t*>(current), static_cast<const uint8_t*>(current) + size);
  std::memcpy(image.data() + target->offset, value.Data(), target->size);
  LibbpfLogCapture log;
  if (bpf_map__set_initial_value(rodata, image.data(), image.size()) != 0)
    ThrowBpfError(env, errno, "setRodata('" + variable + "')", &log);
}

void NativeObject::SetMaxEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "map");
  int64_t entries = IntegerArg(info, 1, "maxEntries");
  UnloadedObject(env, "setMaxEntries");
  if (entries < 1 || entries > UINT32_MAX) ThrowUsageError(env, "setMaxEntries('" + name + "'): n must be 1 to 2^32-1");
  bpf_map* map = FindMap(env, name);
  LibbpfLogCapture log;
  if (bpf_map__set_max_entries(map, static_cast<uint32_t>(entries)) != 0)
    ThrowBpfError(env, errno, "setMaxEntries('" + name + "')", &log);
}

void NativeObject::SetAutoload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "program");
  bool enabled = BoolArg(info, 1, "enabled");
  UnloadedObject(env, "setAutoload");
  bpf_program* program = FindProgram(env, name);
  LibbpfLogCapture log;
  if (bpf_program__set_autoload(program, enabled) != 0)
    ThrowBpfError(env, errno, "setAutoload('" + name + "')", &log);
}

void NativeObject::SetAutocreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "map");
  bool enabled = BoolArg(info, 1, "enabled");
  UnloadedObject(env, "setAutocreate");
  bpf_map* map = FindMap(env, name);
  LibbpfLogCapture log;
  if (bpf_map__set_autocreate(map, enabled) != 0) ThrowBpfError(env, errno, "setAutocreate('" + name + "')", &log);
}

Napi::Value NativeObject::LoadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenObject(env);
  if (state_->loaded) ThrowUsageError(env, "BpfObject '" + state_->name() + "' is already loaded");
  if (state_->loadFailed)
    ThrowUsageError(env, "BpfObject '" + state_->name() + "' failed to load before; libbpf cannot retry: open it again");
  auto* worker = new LoadWorker(env, state_);  // the worker deletes itself after OnOK
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value NativeObject::ProgramNames(const Napi::CallbackInfo& info) {
  bpf_object* object = OpenObject(info.Env());
  Napi::Array names = Napi::Array::New(info.Env());
  bpf_program* program;
  bpf_object__for_each_program(program, object) names.Set(names.Length(), bpf_program__name(program));
  return names;
}

Napi::Value NativeObject::Program(const Napi::CallbackInfo& info) {
  bpf_program* program = FindProgram(info.Env(), StringArg(info, 0, "name"));
  return NativeProgram::New(info.Env(), state_, program);
}

Napi::Value NativeObject::MapNames(const Napi::CallbackInfo& info) {
  bpf_object* object = OpenObject(info.Env());
  Napi::Array names = Napi::Array::New(info.Env());
  bpf_map* map;
  bpf_object__for_each_map(map, object) names.Set(names.Length(), bpf_map__name(map));
  return names;
}

Napi::Value NativeObject::Map(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), StringArg(info, 0, "name"));
  return NativeMap::New(info.Env(), state_, map);
}

void NativeObject::Close(const Napi::CallbackInfo&) { state_->Close(); }

}  // namespace loupe
