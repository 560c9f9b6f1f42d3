"""Community configuration (`config.yaml`) and deployment environment (`.env`)."""

from settings.environment import Environment, load_environment
from settings.loader import ConfigError, load_settings, load_settings_text
from settings.models import Settings

__all__ = ["ConfigError", "Environment", "Settings", "load_environment", "load_settings", "load_settings_text"]
