"""AWS platform tests: settings, components and stacks under mocks."""
