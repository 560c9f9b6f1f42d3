"""A loopback Wechaty puppet-service gateway: a simulated community to run the real wechaty client against."""
