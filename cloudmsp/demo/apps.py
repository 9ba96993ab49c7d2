from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: seeding, the local AWS emulator and `make demo`. Installed by the local and test
    settings only; production settings do not install it (moto is a dev dependency)."""

    name = "cloudmsp.demo"
    label = "demo"
