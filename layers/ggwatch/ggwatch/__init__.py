"""ggwatch: notice every Greengrass deployment status transition and tell the people who care."""
