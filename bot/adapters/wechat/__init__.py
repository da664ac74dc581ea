"""WeChat through python-wechaty and a wechaty puppet service."""
