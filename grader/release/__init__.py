"""From instructor notebooks to what students receive: release, hygiene, the kit, the self-check."""
