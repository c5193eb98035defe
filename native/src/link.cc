#include "link.h"

#include <bpf/bpf.h>

#include "addon_data.h"
#include "args.h"

namespace loupe {

namespace {

struct LinkInit {
  std::shared_ptr<ObjectState> state;
  std::shared_ptr<LinkState> link;
};

// Links made through the legacy perf-event ioctl have no kernel link id: 0.
uint32_t KernelLinkId(bpf_link* link) {
  bpf_link_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &length) != 0) return 0;
  return info.id;
}

}  // namespace

Napi::Function NativeLink::Define(Napi::Env env) {
  return DefineClass(env, "NativeLink",
                     {
                         InstanceAccessor<&NativeLink::Id>("id"),
                         InstanceAccessor<&NativeLink::Destroyed>("destroyed"),
                         InstanceMethod<&NativeLink::Destroy>("destroy"),
                     });
}

Napi::Object NativeLink::New(Napi::Env env, std::shared_ptr<ObjectState> state, BpfLinkPtr link) {
  auto linkState = std::make_shared<LinkState>();
  linkState->id = KernelLinkId(link.get());
  linkState->link = std::move(link);
  state->AddLink(linkState);
  LinkInit init{std::move(state), std::move(linkState)};
  return Data(env).link.New({Napi::External<LinkInit>::New(env, &init)});
}

NativeLink::NativeLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLink>(info) {
  LinkInit* init = InternalArg<LinkInit>(info, "BpfLink");
  state_ = init->state;
  link_ = init->link;
}

// The id stays readable after destroy(), for logs.
Napi::Value NativeLink::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), link_->id); }

Napi::Value NativeLink::Destroyed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), link_->link == nullptr);
}

void NativeLink::Destroy(const Napi::CallbackInfo&) { state_->DestroyLink(link_); }

}  // namespace loupe
