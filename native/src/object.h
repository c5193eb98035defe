// BpfObject: opens an ELF (path or bytes), configures it before load, loads
// it on a worker thread, and hands out its programs and maps by name.
#pragma once

#include <napi.h>

#include <memory>

#include "object_state.h"

namespace loupe {

class NativeObject : public Napi::ObjectWrap<NativeObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeObject(const Napi::CallbackInfo& info);
  ~NativeObject() override;

 private:
  static Napi::Value Open(const Napi::CallbackInfo& info);

  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Loaded(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value RodataLayout(const Napi::CallbackInfo& info);
  void WriteRodata(const Napi::CallbackInfo& info);
  void SetMaxEntries(const Napi::CallbackInfo& info);
  void SetAutoload(const Napi::CallbackInfo& info);
  void SetAutocreate(const Napi::CallbackInfo& info);
  Napi::Value LoadAsync(const Napi::CallbackInfo& info);
  Napi::Value ProgramNames(const Napi::CallbackInfo& info);
  Napi::Value Program(const Napi::CallbackInfo& info);
  Napi::Value MapNames(const Napi::CallbackInfo& info);
  Napi::Value Map(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  bpf_object* OpenObject(Napi::Env env) const;
  bpf_object* UnloadedObject(Napi::Env env, const char* operation) const;
  bpf_map* FindMap(Napi::Env env, const std::string& name) const;
  bpf_program* FindProgram(Napi::Env env, const std::string& name) const;

  std::shared_ptr<ObjectState> state_;
};

}  // namespace loupe
