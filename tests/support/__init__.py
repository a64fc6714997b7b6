"""World-building the tests share: clips, a mail server, validators, geography cases and builders."""
