// BpfLink: one attachment of a program. Owned by the program's BpfObject, so
// it lives until destroy() or until the object is closed or collected.
#pragma once

#include <napi.h>

#include <memory>

#include "object_state.h"

namespace loupe {

class NativeLink : public Napi::ObjectWrap<NativeLink> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, std::shared_ptr<ObjectState> state, BpfLinkPtr link);
  explicit NativeLink(const Napi::CallbackInfo& info);

 private:
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Destroyed(const Napi::CallbackInfo& info);
  void Destroy(const Napi::CallbackInfo& info);

  std::shared_ptr<ObjectState> state_;
  std::shared_ptr<LinkState> link_;
};

}  // namespace loupe
