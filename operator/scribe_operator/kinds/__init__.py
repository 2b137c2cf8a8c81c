"""The resource kinds the operator serves, one package each: API model, pure core, controller, manifests, wiring."""
